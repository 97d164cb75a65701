// Writes the provider's Pulumi schema (`pulumi-tfgen-openstack schema --out DIR`).
package main

import (
	"fmt"
	"os"

	provider "enos-pulumi/plugins/openstack"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
)

func main() {
	info := provider.Info()
	for _, tok := range provider.Unmapped(info) {
		fmt.Fprintf(os.Stderr, "not in Terraform OpenStack (left out): %s\n", tok)
	}
	for _, tf := range info.IgnoreMappings {
		fmt.Fprintf(os.Stderr, "no class in the SDK (left out): %s\n", tf)
	}
	tfgen.Main("openstack", provider.Version, info)
}
