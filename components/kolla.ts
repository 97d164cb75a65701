import * as fs from "node:fs";
import * as path from "node:path";
import { local, remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ExperimentConfig } from "../config/load";
import { CACHE_DIR, PROJECT_DIR } from "../config/paths";
import type { Host, TestbedNetwork } from "../config/types";
import { describeCheck, parseCheckOutput, rolesByHost } from "../kolla/check";
import {
  adminOpenrc,
  ansibleConfig,
  DEPLOY_STEPS,
  type DeployStep,
  type KollaRun,
  renderCheckScript,
  renderDestroyScript,
  renderStepScript,
} from "../kolla/commands";
import { DEFAULT_OPENSTACK_RELEASE, globalsOf } from "../kolla/globals";
import {
  type KollaAnsibleCopy,
  kollaAnsibleCopy,
  passwordsTemplate,
  renderInstallScript,
  resolvePatches,
  shortHash,
} from "../kolla/install";
import { groupHosts } from "../kolla/inventory";
import {
  renderRegistryLoadScript,
  renderRegistryPushScript,
  renderRegistryRemovalScript,
  renderRegistryScript,
  renderRegistryStoreScript,
} from "../kolla/registry";
import { inventoryProblems, inventoryTemplate, renderKollaFiles } from "../kolla/render";
import { BASH, connectionOf, connectionProblem, localFile, precondition, remoteBash, replacedFirst } from "./commands";
import { KollaPasswords } from "./kolla-passwords";

export interface KollaArgs {
  hosts: pulumi.Input<Host[]>;
  network: pulumi.Input<TestbedNetwork>;
  /** The experiment's ssh_config: Ansible reaches every host through it. */
  sshConfig: pulumi.Input<string>;
  config: Pick<
    ExperimentConfig,
    "provider" | "kolla" | "kollaRepo" | "kollaRef" | "inventory" | "patches" | "registry" | "cwd"
  > & {
    kollaMode: "deploy" | "check";
  };
  /** This experiment's kolla config dir (multinode, globals.yml, passwords.yml, admin-openrc.sh). */
  configDir: string;
  /** Extra environment for every Ansible run (the monitoring annotations callback, when on). */
  ansibleEnv?: pulumi.Input<Record<string, string>>;
  /**
   * Deploy mode: called with the step that gives the hosts their container engine (bootstrap-servers);
   * what it makes (monitoring's containers) runs after that step and before the rest of the deploy.
   */
  withEngine?: (engine: pulumi.Resource) => pulumi.Resource;
}

const SETUP_VENV = path.join(PROJECT_DIR, ".venv");

/** The kolla-ansible an experiment runs: release or repo, venv, patches. */
export function kollaCopyFor(
  config: Pick<ExperimentConfig, "kolla" | "kollaRepo" | "kollaRef" | "patches" | "cwd">,
): KollaAnsibleCopy {
  return kollaAnsibleCopy({
    kollaRepo: config.kollaRepo,
    kollaRef: config.kollaRef,
    globals: { openstack_release: DEFAULT_OPENSTACK_RELEASE, ...config.kolla },
    patches: resolvePatches(config.patches, config.cwd),
    setupVenv: SETUP_VENV,
    setupRequirement: `kolla-ansible==${require(path.join(PROJECT_DIR, "package.json")).enos.kollaAnsible}`,
    cacheDir: CACHE_DIR,
  });
}

/** Ansible's `bool` filter, which kolla-ansible applies to its yes/no variables. */
const ansibleTrue = (value: unknown): boolean =>
  ["y", "yes", "on", "1", "true", "t"].includes(String(value).toLowerCase());

/**
 * Deploys OpenStack with kolla-ansible on the testbed's hosts: renders the inventory, globals.yml and
 * passwords.yml, installs the kolla-ansible of the chosen release (patched), then runs its steps as
 * Commands whose triggers are hashes of what each consumes, so that an unchanged update runs nothing
 * and a changed kolla variable re-runs deploy only. In check mode (no Docker engine, e.g. the dev
 * stack) it renders the same files, pings every host through the inventory and lists what each of
 * kolla-ansible's plays would run on.
 */
export class KollaDeployment extends pulumi.ComponentResource {
  public static readonly __pulumiType = "enos:phases:Kolla";
  public readonly vip: pulumi.Output<string>;
  /** Undefined where the cloud has no Horizon (enable_horizon off). */
  public readonly horizonUrl: pulumi.Output<string | undefined>;
  /** Deploy mode: where admin-openrc.sh is. */
  public readonly adminOpenrc?: pulumi.Output<string>;
  /** Check mode: per host, the kolla-ansible roles a deploy would apply. */
  public readonly plan?: pulumi.Output<Record<string, string[]>>;

  constructor(name: string, args: KollaArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KollaDeployment.__pulumiType, name, {}, opts);
    const { config, configDir } = args;
    const hosts = pulumi.output(args.hosts);
    const network = pulumi.output(args.network);
    const copy = kollaCopyFor(config);
    const environment = pulumi.output(args.ansibleEnv ?? {}).apply((env) => ({
      ANSIBLE_CONFIG: ansibleConfig(),
      ...env,
    }));
    const asChild = { parent: this };

    const install = new local.Command(
      `${name}-ansible`,
      {
        create: renderInstallScript(copy, path.join(PROJECT_DIR, "scripts", "constraints.txt")),
        interpreter: BASH,
        triggers: [copy.requirement, copy.venv],
      },
      replacedFirst(asChild),
    );
    const passwords = new KollaPasswords(
      `${name}-passwords`,
      { templateFile: passwordsTemplate(copy), installedTemplate: install.stdout },
      asChild,
    );

    const template = inventoryTemplate(config);
    const inventoryCheck = precondition(
      `${name}-inventory-check`,
      hosts.apply((hostList) => inventoryProblems(template, hostList) ?? ""),
      asChild,
    );
    const files = pulumi
      .all([hosts, network, passwords.values])
      .apply(([hostList, testbedNetwork, values]) => renderKollaFiles(config, hostList, testbedNetwork, values));
    const written = (["multinode", "globals", "passwords"] as const).map(
      (key) =>
        localFile(
          `${name}-${key}`,
          {
            path: path.join(configDir, key === "multinode" ? key : `${key}.yml`),
            // passwords.yml's text goes to the command as its stdin, an input: secret, or the state keeps it
            // in plain (additionalSecretOutputs covers outputs only).
            content:
              key === "passwords"
                ? pulumi.secret(files.apply((rendered) => rendered[key]))
                : files.apply((rendered) => rendered[key]),
            // passwords.yml holds secrets: readable by its owner only, encrypted in the state.
            mode: key === "passwords" ? 0o600 : 0o644,
          },
          { ...asChild, dependsOn: [inventoryCheck], additionalSecretOutputs: key === "passwords" ? ["stdin"] : [] },
        ).command,
    );

    const globals = pulumi
      .all([hosts, network])
      .apply(([hostList, testbedNetwork]) =>
        globalsOf({ hosts: hostList, network: testbedNetwork, registry: config.registry, kolla: config.kolla }),
      );
    this.vip = globals.apply((vars) => String(vars.kolla_internal_vip_address));
    this.horizonUrl = globals.apply((vars) =>
      vars.enable_horizon !== undefined && !ansibleTrue(vars.enable_horizon)
        ? undefined
        : `${ansibleTrue(vars.kolla_enable_tls_external) ? "https" : "http"}://` +
          `${vars.kolla_external_vip_address ?? vars.kolla_internal_vip_address}`,
    );

    const run = pulumi.output(args.sshConfig).apply(
      (sshConfig): KollaRun => ({
        venv: copy.venv,
        configDir,
        sshConfig,
        // Machine hosts: Docker is in their image, and no package repository is in reach.
        engineInstalled: config.provider.type === "local" && config.provider.hosts === "machine",
      }),
    );
    const after = [install, ...written];
    if (config.kollaMode === "check") {
      const check = new local.Command(
        `${name}-check`,
        {
          create: run.apply(renderCheckScript),
          interpreter: BASH,
          environment,
          triggers: [files.apply((rendered) => shortHash(rendered, copy.requirement))],
        },
        replacedFirst({ ...asChild, dependsOn: after }),
      );
      const result = check.stdout.apply(parseCheckOutput);
      result.apply((checked) => pulumi.log.info(describeCheck(checked), this));
      // Hosts and role names only: not secret, though the check's trigger hashes files holding the passwords.
      this.plan = pulumi.unsecret(result.apply((checked) => rolesByHost(checked.plays)));
    } else {
      const teardown = new local.Command(
        `${name}-teardown`,
        {
          // The cloud's lifetime: deleting this (destroy, never an update) tears down what the steps made.
          create: "echo 'the cloud made by the kolla-ansible steps lives as long as this resource'",
          delete: run.apply(renderDestroyScript),
          interpreter: BASH,
          environment,
        },
        replacedFirst({ ...asChild, dependsOn: after }),
      );
      // The kolla-ansible that runs (release or kolla_ref, and patches: its venv is named after them) is
      // part of what every step consumes: a new patch re-runs the steps it may change.
      const consumed = pulumi.all([files, globals, hosts]).apply(([rendered, vars, hostList]) => ({
        // Host keys too: a machine installed anew at the same address (a new job, --force-deploy)
        // has none of the cloud, and a new key says so.
        inventory: shortHash(
          rendered.multinode,
          copy.venv,
          hostList.map((host) => host.hostKey ?? ""),
        ),
        images: shortHash(
          vars.openstack_release,
          Object.entries(vars).filter(([key]) => key.startsWith("docker_") || key.startsWith("enable_")),
        ),
        config: shortHash(rendered, copy.venv),
        admin: shortHash(
          vars.kolla_internal_vip_address,
          vars.kolla_external_vip_address,
          /keystone_admin_password: (\S+)/.exec(rendered.passwords)?.[1],
        ),
      }));
      const triggerOf: Record<DeployStep, (c: pulumi.Unwrap<typeof consumed>) => string> = {
        "bootstrap-servers": (hashes) => hashes.inventory,
        prechecks: (hashes) => hashes.inventory,
        pull: (hashes) => shortHash(hashes.inventory, hashes.images),
        deploy: (hashes) => hashes.config,
        "post-deploy": (hashes) => shortHash(hashes.inventory, hashes.admin),
      };
      let previous: pulumi.Resource[] = [teardown];
      let registry: remote.Command | undefined;
      // What the registry holds changed (new registry.images, a registry made anew): pulled again, and deploy
      // recreates the containers whose image changed.
      const imagesOf = (step: DeployStep) => (registry && (step === "pull" || step === "deploy") ? [registry.id] : []);
      for (const step of DEPLOY_STEPS) {
        const command = new local.Command(
          `${name}-${step}`,
          {
            create: run.apply((kollaRun) => renderStepScript(kollaRun, step)),
            // Only a trigger (what the step consumes) re-runs a step: not a new environment (monitoring
            // on or off, the user's ANSIBLE_CONFIG), which would re-run hours of pulls and deploys.
            update: "true",
            interpreter: BASH,
            environment,
            // Its scripts never read the last run's output, which is long (kolla-ansible's whole log).
            addPreviousOutputInEnv: false,
            // post-deploy prints the admin-openrc (a secret): its stdout is kept, never logged.
            logging: step === "post-deploy" ? "stderr" : undefined,
            triggers: [consumed.apply(triggerOf[step]), ...imagesOf(step)],
          },
          replacedFirst({
            ...asChild,
            // The registry comes up beside prechecks, which never reads it; pull takes its images.
            dependsOn: step === "pull" && registry ? [...previous, registry] : previous,
            additionalSecretOutputs: step === "post-deploy" ? ["stdout"] : [],
          }),
        );
        previous = [command];
        // The internal registry (and monitoring's containers) need the Docker engine that bootstrap-servers installs.
        if (step === "bootstrap-servers" && config.registry.type === "internal") {
          registry = registryOnControlHost(`${name}-registry`, config.registry, hosts, network, args.sshConfig, {
            ...asChild,
            dependsOn: [command],
          });
        }
        if (step === "bootstrap-servers" && args.withEngine) previous = [...previous, args.withEngine(command)];
      }
      this.adminOpenrc = pulumi.output(adminOpenrc(configDir));
    }
    this.registerOutputs({
      vip: this.vip,
      horizonUrl: this.horizonUrl,
      adminOpenrc: this.adminOpenrc,
      plan: this.plan,
    });
  }
}

function registryOnControlHost(
  name: string,
  registry: Extract<KollaArgs["config"]["registry"], { type: "internal" }>,
  hosts: pulumi.Output<Host[]>,
  network: pulumi.Output<TestbedNetwork>,
  sshConfig: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): remote.Command {
  // The mirror sits at the registry VIP, as globals.yml's docker_registry says.
  const place = pulumi.all([hosts, network]).apply(([hostList, testbedNetwork]) => {
    const control = groupHosts("control", hostList)[0];
    return { control, address: testbedNetwork.vips.registry.address, device: control.interfaces.api };
  });
  const check = precondition(
    `${name}-check`,
    place.apply((placement) => connectionProblem(placement.control) ?? ""),
    opts,
  );
  const connection = place.apply((placement) => connectionOf(placement.control));
  // registry.images: copied and loaded before the registry starts (the archive may hold registry:2 itself);
  // registry.store: unpacked as its storage.
  const { images, store } = registry;
  const onHost = (key: string, archive: string, render: Parameters<typeof archiveOnHost>[2]) =>
    archiveOnHost(`${name}-${key}`, archive, render, place, sshConfig, { ...opts, dependsOn: check });
  const loaded = images === undefined ? undefined : onHost("images", images, renderRegistryLoadScript);
  const stored = store === undefined ? undefined : onHost("store", store, renderRegistryStoreScript);
  const running = new remote.Command(
    name,
    {
      create: place.apply((placement) => remoteBash(renderRegistryScript(registry, placement))),
      delete: place.apply((placement) => remoteBash(renderRegistryRemovalScript(registry, placement))),
      connection,
      // Moved (another control host, address or device): the old one is removed first. A new store: started anew on it.
      triggers: [
        place.apply((placement) => shortHash(placement.control.alias, placement.address, placement.device)),
        ...(stored ? [stored.id] : []),
      ],
    },
    replacedFirst({ ...opts, dependsOn: [check, ...(loaded ? [loaded] : []), ...(stored ? [stored] : [])] }),
  );
  if (!loaded) return running;
  return new remote.Command(
    `${name}-push`,
    {
      create: place.apply((placement) => remoteBash(renderRegistryPushScript(registry, placement))),
      connection,
      // Pushed again into a registry made anew, or from a new archive.
      triggers: [loaded.id, running.id],
    },
    replacedFirst({ ...opts, dependsOn: [running] }),
  );
}

/** An archive of registry.images or registry.store, copied to the registry's host and taken in there by `render`. */
function archiveOnHost(
  name: string,
  archive: string,
  render: (archive: string, ssh: { config: string; alias: string }) => string,
  place: pulumi.Output<{ control: Host }>,
  sshConfig: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): local.Command {
  // Again when the archive changes (load checked that it exists) or the registry's host does.
  const stat = fs.statSync(archive);
  return new local.Command(
    name,
    {
      create: pulumi
        .all([place, sshConfig])
        .apply(([placement, config]) => render(archive, { config, alias: placement.control.alias })),
      interpreter: BASH,
      triggers: [archive, stat.size, stat.mtimeMs, place.apply((placement) => placement.control.alias)],
    },
    replacedFirst(opts),
  );
}
