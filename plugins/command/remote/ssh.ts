import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, type ConnectConfig, type ServerHostKeyAlgorithm } from "ssh2";
import type { Connection, Endpoint } from "../inputs";

/**
 * SSH connections as pulumi-command's `connection` describes them (remote/connection.go): private key,
 * password, agent; `hostKey` pins the server's key; a `proxy` hop is dialled first and the target
 * reached through it; each hop dials up to `dialErrorLimit` times, each attempt bounded by
 * `perDialTimeout` seconds (see inputs.ts for the defaults).
 */

export const describe = (e: Endpoint) => `${e.user}@${e.host}:${e.port}`;

/** A refusal that another attempt cannot change: a wrong host key, rejected credentials. */
class Permanent extends Error {}

interface PinnedKey {
  type: string;
  blob: Buffer;
}

function parseHostKey(endpoint: Endpoint): PinnedKey | undefined {
  if (endpoint.hostKey === undefined) return undefined;
  const [type, base64] = endpoint.hostKey.trim().split(/\s+/);
  const blob = Buffer.from(base64 ?? "", "base64");
  if (!type || blob.length === 0) {
    throw new Error(
      `command: hostKey of ${describe(endpoint)} must be "<type> <base64>" as in known_hosts or a .pub file; got "${endpoint.hostKey}"`,
    );
  }
  return { type, blob };
}

/** The key types an SSH server may present for a key of this type (an RSA key signs with SHA-2 too). */
function algorithmsFor(type: string): ServerHostKeyAlgorithm[] {
  return (type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type]) as ServerHostKeyAlgorithm[];
}

/** The type name at the head of an SSH public key blob. */
function blobType(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1") : "unknown";
}

/**
 * One SSH handshake and authentication, over `sock` when given (a channel of the proxy). A stop
 * (timeout, cancel) gives it up: a command stopped while its connection is made never starts.
 */
function handshake(endpoint: Endpoint, sock: Readable | undefined, signal: AbortSignal): Promise<Client> {
  const pinned = parseHostKey(endpoint);
  return new Promise((resolve, reject) => {
    const client = new Client();
    const stopped = () => {
      client.end();
      reject(new Permanent(`stopped while connecting to ${describe(endpoint)}`));
    };
    if (signal.aborted) return stopped();
    signal.addEventListener("abort", stopped);
    let mismatch: string | undefined;
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      sock,
      privateKey: endpoint.privateKey,
      passphrase: endpoint.privateKeyPassword,
      password: endpoint.password,
      tryKeyboard: endpoint.password !== undefined,
      agent: endpoint.agentSocketPath ?? process.env.SSH_AUTH_SOCK,
      readyTimeout: endpoint.perDialTimeout > 0 ? endpoint.perDialTimeout * 1000 : 2 ** 31 - 1,
      algorithms: pinned && { serverHostKey: algorithmsFor(pinned.type) },
      hostVerifier: (key: Buffer) => {
        if (!pinned || key.equals(pinned.blob)) return true;
        mismatch = `${blobType(key)} ${key.toString("base64")}`;
        return false;
      },
    };
    client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) => {
      finish(prompts.map(() => endpoint.password ?? ""));
    });
    client.once("ready", () => {
      signal.removeEventListener("abort", stopped);
      // A connection lost later surfaces as the command's channel closing, not as an uncaught error.
      client.on("error", () => undefined);
      resolve(client);
    });
    client.once("error", (error: Error & { level?: string }) => {
      signal.removeEventListener("abort", stopped);
      client.end();
      if (mismatch !== undefined) {
        reject(
          new Permanent(
            `host key mismatch for ${describe(endpoint)}: expected ${pinned?.type} ${pinned?.blob.toString("base64")}, ` +
              `the server presented ${mismatch}. If the host was reinstalled, pin its new key; otherwise something else answers there.`,
          ),
        );
      } else if (error.level === "client-authentication") {
        reject(
          new Permanent(
            `authentication as ${endpoint.user} refused by ${describe(endpoint)}: check the private key, password or agent`,
          ),
        );
      } else {
        reject(error);
      }
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously on a key it cannot parse (or decrypt).
      reject(new Permanent(`cannot use the private key for ${describe(endpoint)}: ${(error as Error).message}`));
    }
  });
}

/** Tries `attempt` until it succeeds, fails for good, or the endpoint's dial error limit is reached. */
async function withRetries<T>(
  what: string,
  endpoint: Endpoint,
  signal: AbortSignal,
  log: (line: string) => void,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await attempt();
    } catch (error) {
      const limit = endpoint.dialErrorLimit;
      if (error instanceof Permanent) throw error;
      if (signal.aborted || (limit >= 0 && failures >= limit)) {
        throw new Error(`${what} failed after ${failures} attempt(s): ${(error as Error).message}`);
      }
      log(`${what} ${failures}/${limit < 0 ? "inf" : limit} failed: retrying`);
      // A stop cuts the wait short; the next attempt then gives up at once.
      await sleep(Math.min(1000 * failures, 5000), undefined, { signal }).catch(() => undefined);
    }
  }
}

/** A client logged in on the connection's host, through its proxy when it has one. Ending it ends the proxy too. */
export async function dial(connection: Connection, signal: AbortSignal, log: (line: string) => void): Promise<Client> {
  const target = describe(connection);
  const { proxy } = connection;
  const toTarget = (sock?: Readable) => handshake(connection, sock, signal);
  if (!proxy) return withRetries(`ssh to ${target}`, connection, signal, log, () => toTarget());
  const toProxy = () => handshake(proxy, undefined, signal);
  const hop = await withRetries(`ssh to the proxy ${describe(proxy)}`, proxy, signal, log, toProxy);
  try {
    const client = await withRetries(
      `ssh to ${target} through ${describe(proxy)}`,
      connection,
      signal,
      log,
      async () => {
        const channel = await new Promise<Readable>((resolve, reject) => {
          hop.forwardOut("127.0.0.1", 0, connection.host, connection.port, (error, stream) =>
            error ? reject(error) : resolve(stream),
          );
        });
        return toTarget(channel);
      },
    );
    client.once("close", () => hop.end());
    return client;
  } catch (error) {
    hop.end();
    throw error;
  }
}
