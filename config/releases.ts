/** kolla-ansible's PyPI release for each OpenStack release it deploys (config checks the key against it). */
export const KOLLA_ANSIBLE_RELEASES: Record<string, string> = {
  "2026.1": "22.2.0",
  "2025.2": "21.3.0",
  "2025.1": "20.6.0",
  "2024.2": "19.8.0",
  "2024.1": "18.8.0",
};
export const DEFAULT_OPENSTACK_RELEASE = "2026.1";
