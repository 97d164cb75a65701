/** One shell word, whatever the value holds (paths with spaces or quotes). */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * A script that needs root, for whatever user the testbed logs in as (Debian images' `debian`,
 * Chameleon's `cc`): root runs it in this very shell (so that the caller's shell functions still
 * apply), anyone else through `sudo -n`, the way the static probe does; a user without passwordless
 * sudo gets an error naming the host, the user and `what` needed root, instead of a half-done run.
 */
export function asRoot(what: string, script: string): string {
  const refuse = (why: string) =>
    `{ echo "enos: ${what} needs root on $(hostname), but user $(id -un) ${why}; log in as root or give $(id -un) passwordless sudo" >&2; exit 1; }`;
  return [
    "enos_script=$(cat <<'ENOS_AS_ROOT'",
    script.trimEnd(),
    "ENOS_AS_ROOT",
    ")",
    'if [ "$(id -u)" = 0 ]; then eval "$enos_script"; else',
    `  command -v sudo >/dev/null || ${refuse("has no sudo (not installed)")}`,
    `  sudo -n true 2>/dev/null || ${refuse("cannot sudo without a password (sudo -n)")}`,
    "  printf '%s\\n' \"$enos_script\" | sudo -n bash -s",
    "fi",
    "",
  ].join("\n");
}
