/**
 * What each resource registered under pulumi mocks waits for, as the engine is told: its dependencies
 * (dependsOn, a component standing for its custom children; inputs from other resources) and its
 * parent (a child waits for its parent, which waits for the parent's own dependencies). Call after
 * setMocks: it wraps the mock monitor.
 */
export function recordDependencies() {
  const { getMonitor } = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): Monitor };
  const monitor = getMonitor();
  const edges = new Map<string, string[]>();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (error, response) => {
      if (response)
        edges.set(response.getUrn(), [...req.getDependenciesList(), ...(req.getParent() ? [req.getParent()] : [])]);
      callback(error, response);
    });
  /**
   * The one URN registered for `key`: "Type name", Type being the last part of the type token (e.g. "Command
   * tc-addresses").
   */
  const urnOf = (key: string) => {
    const [type, name] = key.split(" ");
    const found = [...edges.keys()].filter(
      (urn) => urn.endsWith(`::${name}`) && urn.split("::").at(-2)!.split("$").at(-1)!.split(":").at(-1) === type,
    );
    if (found.length !== 1) throw new Error(`${found.length} resources registered as ${key}`);
    return found[0];
  };
  return {
    clear: () => edges.clear(),
    /** Whether `later` (a "Type name") cannot start before `earlier` is done. */
    waitsFor(later: string, earlier: string): boolean {
      const target = urnOf(earlier);
      const seen = new Set<string>();
      const queue = [urnOf(later)];
      while (queue.length) {
        const urn = queue.pop()!;
        if (urn === target) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        queue.push(...(edges.get(urn) ?? []));
      }
      return false;
    },
  };
}

interface RegisterRequest {
  getDependenciesList(): string[];
  getParent(): string;
}
interface RegisterResponse {
  getUrn(): string;
}
type Callback = (error: Error | null, response?: RegisterResponse) => void;
interface Monitor {
  registerResource(req: RegisterRequest, callback: Callback): void;
}
