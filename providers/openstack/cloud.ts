/**
 * Terraform OpenStack needs a cloud to talk to; without one it only says "One of 'auth_url' or 'cloud'
 * must be specified", naming neither the variable nor the stack key. Say it with the fix, before anything starts.
 */
export function openstackCloudProblem(
  env: NodeJS.ProcessEnv,
  config: { authUrl?: string; cloud?: string },
): string | undefined {
  if (env.OS_AUTH_URL || env.OS_CLOUD || config.authUrl || config.cloud) return undefined;
  return (
    "no OpenStack cloud to use: OS_AUTH_URL and OS_CLOUD are not set, nor openstack:authUrl or openstack:cloud. " +
    "Source your openrc (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME...), set OS_CLOUD to an entry of clouds.yaml, " +
    "or set the stack's keys: `pulumi config set openstack:authUrl URL`, openstack:userName, openstack:tenantName, `pulumi config set --secret openstack:password`"
  );
}

/** An invoke's error as one line: the bridge wraps Terraform's in two prefixes and a bulleted list. */
export function invokeErrorText(message: string): string {
  return message
    .replace(/^invocation of \S+ returned an error: invoking \S+: \d+ errors? occurred:/, "")
    .replace(/\s*\n[\s*]*/g, " ")
    .trim();
}
