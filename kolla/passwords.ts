import * as yaml from "js-yaml";

/**
 * What kind of secret each key of passwords.yml holds. kolla-ansible's own generator (kolla-genpwd,
 * kolla_ansible/cmd/genpwd.py of 22.x) names these keys; every other key is a 40-character password.
 */
export type SecretKind = "password" | "uuid" | "ssh_key" | "hmac_md5" | "fernet" | "bcrypt_salt" | "blank";

const KINDS_BY_KEY: Record<string, SecretKind> = {
  rbd_secret_uuid: "uuid",
  cinder_rbd_secret_uuid: "uuid",
  gnocchi_project_id: "uuid",
  gnocchi_resource_id: "uuid",
  gnocchi_user_id: "uuid",
  designate_pool_id: "uuid",
  kolla_ssh_key: "ssh_key",
  nova_ssh_key: "ssh_key",
  keystone_ssh_key: "ssh_key",
  bifrost_ssh_key: "ssh_key",
  octavia_amp_ssh_key: "ssh_key",
  neutron_ssh_key: "ssh_key",
  haproxy_ssh_key: "ssh_key",
  docker_registry_password: "blank",
  designate_rndc_key: "hmac_md5",
  osprofiler_secret: "hmac_md5",
  barbican_crypto_key: "fernet",
  prometheus_bcrypt_salt: "bcrypt_salt",
};

/**
 * One kind per key of a release's passwords template (etc_examples/kolla/passwords.yml). A key the
 * template already gives a value keeps it, as kolla-genpwd does.
 */
export function secretKinds(template: string): Record<string, SecretKind | { value: unknown }> {
  const entries = Object.entries((yaml.load(template) ?? {}) as Record<string, unknown>);
  return Object.fromEntries(
    entries.map(([key, value]) => {
      const kind = KINDS_BY_KEY[key] ?? "password";
      const unset = value === null || (kind === "ssh_key" && Object.values(value as object).every((v) => v === null));
      return [key, unset ? kind : { value }];
    }),
  );
}

/**
 * kolla-genpwd's uuid4 from 16 random bytes (given in hex): what uuid.uuid4() does with os.urandom(16),
 * the version and variant bits set.
 */
export function uuidFromBytes(hex: string): string {
  const bytes = Buffer.from(hex, "hex");
  if (bytes.length !== 16) throw new Error(`a UUID needs 16 random bytes, got ${bytes.length}`);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A Fernet key as kolla-genpwd makes it (Fernet.generate_key()): 32 bytes in padded urlsafe base64. */
export function fernetFromBase64(base64: string): string {
  return base64.replace(/\+/g, "-").replace(/\//g, "_");
}

/** passwords.yml as kolla-ansible reads it. */
export function renderPasswords(values: Record<string, unknown>): string {
  return yaml.dump(values, { lineWidth: -1, sortKeys: true });
}

/** passwords.yml's shape with every generated value masked, for dry runs. */
export function maskSecrets(kinds: Record<string, SecretKind | { value: unknown }>): Record<string, unknown> {
  const mask = "********";
  return Object.fromEntries(
    Object.entries(kinds).map(([key, kind]) => {
      if (typeof kind !== "string") return [key, kind.value];
      if (kind === "ssh_key") return [key, { private_key: mask, public_key: mask }];
      return [key, kind === "blank" ? null : mask];
    }),
  );
}
