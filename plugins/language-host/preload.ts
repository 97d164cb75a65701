/**
 * Preloaded (`node --require`) into every program the language host runs.
 *
 * Node 20.20's `util.inspect(error, { colors: true })` never returns when a stack frame's path ends in a
 * node_modules segment with no separator after it (nodejs/node#64011, fixed by #64022), and
 * @pulumi/pulumi's source maps place its own frames at `node_modules/@pulumi/<file>.ts`: the SDK prints
 * a program's uncaught error with exactly that call, so a program that throws would spin until node runs
 * out of memory instead of reporting the error. This prints such errors without colours. Harmless once
 * node is fixed; remove it then.
 */
// The module object itself (not an import copy of it): the SDK must see the guarded inspect.
import util = require("node:util");

const inspect = util.inspect;
const hangs = /[\\/]node_modules[\\/](?:@[^\\/\n]*[\\/])?[^\\/\n]*$/m;
// The SDK (cmd/run/error.js) passes an options object, the only form handled here.
const guarded = function (this: unknown, value: unknown, options?: unknown, ...rest: unknown[]) {
  if (
    value instanceof Error &&
    typeof options === "object" &&
    options !== null &&
    "colors" in options &&
    options.colors &&
    hangs.test(String(value.stack))
  ) {
    return inspect.call(this, value, { ...options, colors: false });
  }
  // biome-ignore lint/complexity/noArguments: util.inspect tells (value) from (value, undefined) by argument count
  return Reflect.apply(inspect, this, [value, options, ...rest].slice(0, arguments.length));
};
// inspect.custom, defaultOptions (a getter/setter), colors and styles stay those of node's inspect.
const { prototype: _p, length: _l, name: _n, ...properties } = Object.getOwnPropertyDescriptors(inspect);
Object.defineProperties(guarded, properties);
Object.defineProperty(util, "inspect", { value: guarded });
