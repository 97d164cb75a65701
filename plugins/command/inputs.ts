import { z } from "zod";

/**
 * The inputs of @pulumi/command's resources, as pulumi-command 1.2.1's schema has them, decoded once
 * from the engine's plain properties: upstream's defaults filled in, a wrong type named by its key.
 */
const LOGGING = ["stdout", "stderr", "stdoutAndStderr", "none"] as const;

const commandInputs = z.object({
  create: z.string().optional(),
  update: z.string().optional(),
  delete: z.string().optional(),
  environment: z.record(z.string(), z.string()).default({}),
  stdin: z.string().optional(),
  logging: z.enum(LOGGING).default("stdoutAndStderr"),
  addPreviousOutputInEnv: z.boolean().default(true),
});

export const localInputs = commandInputs.extend({
  /** The `command:local:run` invoke's command. */
  command: z.string().optional(),
  dir: z.string().optional(),
  interpreter: z.array(z.string()).optional(),
});

/**
 * An SSH endpoint as remote/connection.go has it: user root and port 22 by default; each hop dials up
 * to `dialErrorLimit` times (-1: no limit), each attempt bounded by `perDialTimeout` seconds (0: none).
 */
const endpoint = z.object({
  host: z.string().min(1),
  port: z.number().default(22),
  user: z.string().default("root"),
  privateKey: z.string().optional(),
  privateKeyPassword: z.string().optional(),
  password: z.string().optional(),
  agentSocketPath: z.string().optional(),
  /** Pins the server's key: "<type> <base64>". */
  hostKey: z.string().optional(),
  dialErrorLimit: z.number().default(10),
  perDialTimeout: z.number().default(15),
});

export const remoteInputs = commandInputs.extend({
  /** A `proxy` hop is dialled first and the target reached through it. */
  connection: endpoint.extend({ proxy: endpoint.optional() }),
});

export type CommandInputs = z.infer<typeof commandInputs>;
export type LocalInputs = z.infer<typeof localInputs>;
export type RemoteInputs = z.infer<typeof remoteInputs>;
export type Endpoint = z.infer<typeof endpoint>;
export type Connection = RemoteInputs["connection"];

/** A null stands for a value left out (the engine sends both). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** Decodes plain properties with `schema`; a failure names every wrong key and what it must be. */
export function decode<I>(schema: z.ZodType<I>, props: unknown): I {
  const result = schema.safeParse(withoutNulls(props));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "inputs"}: ${issue.message}`);
  throw new Error(`command: ${problems.join("; ")}`);
}
