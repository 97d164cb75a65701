import * as path from "node:path";
import { PROJECT_DIR } from "../config/paths";
import { shellQuote } from "../config/shell";

/** Where one experiment's kolla-ansible runs: its venv, its config dir and how Ansible reaches hosts. */
export interface KollaRun {
  venv: string;
  /** Holds multinode, globals.yml and passwords.yml (kolla's /etc/kolla for this experiment). */
  configDir: string;
  /** The experiment's ssh_config: host keys and client keys for every host. */
  sshConfig: string;
  /**
   * The hosts come with their Docker engine and reach no package repository (the local testbed's machine
   * hosts): bootstrap-servers is enos' kolla/prepare-hosts.yml, without kolla-ansible's galaxy collections.
   */
  engineInstalled?: boolean;
}

/** bootstrap-servers' stand-in on hosts that come with their engine. */
export const PREPARE_HOSTS = path.join(PROJECT_DIR, "kolla", "prepare-hosts.yml");

/** kolla-ansible's steps of a deploy, in order. */
export const DEPLOY_STEPS = ["bootstrap-servers", "prechecks", "pull", "deploy", "post-deploy"] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];

/** A tag no kolla-ansible task has: only its `always` tasks (facts, grouping by enabled service) run. */
export const CHECK_TAG = "enos-check-only";
/** enos' Ansible callbacks: each play's hosts (enos_plays.py), a failed run's failed tasks (enos_failures.py). */
export const CALLBACK_DIR = path.join(PROJECT_DIR, "kolla", "callback_plugins");

/**
 * The Ansible configuration of kolla-ansible runs: the user's when ANSIBLE_CONFIG names one (as in Enos), enos' own
 * otherwise.
 */
export const ansibleConfig = (): string => process.env.ANSIBLE_CONFIG ?? path.join(PROJECT_DIR, "kolla", "ansible.cfg");

/** Shell lines running Ansible from `venv`, reaching hosts through the experiment's ssh_config. */
export function ansibleOverSsh(venv: string, sshConfig: string): string[] {
  return [
    `export PATH=${shellQuote(`${venv}/bin`)}:"$PATH"`,
    `export ANSIBLE_SSH_ARGS=${shellQuote(`-F ${sshConfig} -o ControlMaster=auto -o ControlPersist=60s`)}`,
  ];
}

/**
 * Every kolla script: Ansible over ssh, with kolla-ansible's galaxy collections kept with their venv, and enos'
 * enos_failures callback beside any other (monitoring's), so that a failed run ends naming its failed tasks.
 */
export function prelude(run: KollaRun): string[] {
  return [
    "set -euo pipefail",
    ...ansibleOverSsh(run.venv, run.sshConfig),
    `export ANSIBLE_COLLECTIONS_PATH=${shellQuote(`${run.venv}/share/ansible/collections`)}`,
    `export ANSIBLE_CALLBACK_PLUGINS=${shellQuote(CALLBACK_DIR)}\${ANSIBLE_CALLBACK_PLUGINS:+:$ANSIBLE_CALLBACK_PLUGINS}`,
    `export ANSIBLE_CALLBACKS_ENABLED=enos_failures\${ANSIBLE_CALLBACKS_ENABLED:+,$ANSIBLE_CALLBACKS_ENABLED}`,
  ];
}

export function kollaAnsible(run: KollaRun, action: string, options = ""): string {
  const dir = run.configDir;
  return `kolla-ansible ${action} -i ${shellQuote(`${dir}/multinode`)} --configdir ${shellQuote(dir)} --passwords ${shellQuote(`${dir}/passwords.yml`)}${options ? ` ${options}` : ""}`;
}

export const adminOpenrc = (configDir: string) => path.join(configDir, "admin-openrc.sh");

/**
 * One deploy step. bootstrap-servers first fetches kolla-ansible's galaxy collections (once per venv); on hosts
 * that come with their engine it is kolla/prepare-hosts.yml, run on the same inventory and globals.
 */
export function renderStepScript(run: KollaRun, step: DeployStep): string {
  const dir = run.configDir;
  const body: Record<DeployStep, string[]> = {
    "bootstrap-servers": run.engineInstalled
      ? [
          "echo 'bootstrap-servers: the hosts come with Docker; enos prepares them (kolla/prepare-hosts.yml)' >&2",
          `ansible-playbook -i ${shellQuote(`${dir}/multinode`)} -e @${shellQuote(`${dir}/globals.yml`)} ${shellQuote(PREPARE_HOSTS)}`,
        ]
      : [
          `[ -f ${shellQuote(`${run.venv}/.enos-galaxy`)} ] || { kolla-ansible install-deps && touch ${shellQuote(`${run.venv}/.enos-galaxy`)}; }`,
          kollaAnsible(run, "bootstrap-servers"),
        ],
    prechecks: [kollaAnsible(run, "prechecks")],
    pull: [kollaAnsible(run, "pull")],
    deploy: [kollaAnsible(run, "deploy")],
    // Its stdout is the admin-openrc, kept as a secret output.
    "post-deploy": [`${kollaAnsible(run, "post-deploy")} >&2`, `cat ${shellQuote(adminOpenrc(run.configDir))}`],
  };
  return [...prelude(run), ...body[step], ""].join("\n");
}

/** kolla-ansible run by hand on an experiment's inventory and configuration (enos kolla -- ARGS). */
export function renderManualScript(run: KollaRun, args: string[]): string {
  return [...prelude(run), kollaAnsible(run, args.map(shellQuote).join(" ")), ""].join("\n");
}

/**
 * Tears the cloud down: instances first (running qemu processes keep kolla's containers from being
 * removed cleanly), then kolla-ansible's destroy. A cloud whose API is already gone has no instances
 * to delete.
 */
export function renderDestroyScript(run: KollaRun): string {
  return [
    ...prelude(run),
    `if [ -f ${shellQuote(adminOpenrc(run.configDir))} ] && . ${shellQuote(adminOpenrc(run.configDir))} && servers=$(openstack server list --all-projects -f value -c ID 2>/dev/null); then`,
    `  [ -z "$servers" ] || openstack server delete --wait $servers`,
    "fi",
    // enos destroy --include-images sets ENOS_KOLLA_DESTROY_OPTIONS in the engine's environment.
    // The testbed's hosts only: its destroy play runs on `all`, which holds the deployment host (this machine,
    // [deployment] localhost), where no container of the cloud runs and Docker may not be.
    `${kollaAnsible(run, "destroy", "--yes-i-really-really-mean-it --limit baremetal")} \${ENOS_KOLLA_DESTROY_OPTIONS:-}`,
    "",
  ].join("\n");
}

/**
 * Check mode: pings every host through the inventory with Ansible, then runs kolla-ansible's real
 * playbooks in check mode with a tag that selects only their `always` tasks (fact gathering and the
 * grouping of hosts by enabled service), while the enos_plays callback writes each play and the hosts
 * it would run on. `--list-hosts` cannot do this: it does not run the grouping, so plays on groups
 * such as `&enable_keystone_True` list no host. Output: the ping lines, then `@@PLAYS` and one JSON
 * line per play. bootstrap-servers' playbook needs the openstack.kolla collection, which only
 * `kolla-ansible install-deps` can fetch (from opendev git): it is listed when that is installed.
 */
export function renderCheckScript(run: KollaRun): string {
  const listed = (action: string) =>
    `ENOS_PLAYBOOK=${action} ${kollaAnsible(run, action, `--check --tags ${CHECK_TAG}`)} > "$log" 2>&1 || { cat "$log" >&2; exit 1; }`;
  return [
    ...prelude(run),
    'log=$(mktemp); plays=$(mktemp); trap \'rm -f "$log" "$plays"\' EXIT',
    `ansible -i ${shellQuote(`${run.configDir}/multinode`)} all -m ping`,
    'export ANSIBLE_CALLBACKS_ENABLED="enos_plays,$ANSIBLE_CALLBACKS_ENABLED" ENOS_PLAYS_FILE="$plays"',
    "if ansible-galaxy collection list openstack.kolla 2>/dev/null | grep -q '^openstack\\.kolla '; then",
    `  ${listed("bootstrap-servers")}`,
    "fi",
    listed("deploy"),
    listed("post-deploy"),
    'echo "@@PLAYS"; cat "$plays"',
    "",
  ].join("\n");
}
