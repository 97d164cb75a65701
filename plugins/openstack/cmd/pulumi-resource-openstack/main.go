// The resource plugin the engine starts for @pulumi/openstack, serving the schema tfgen wrote.
package main

import (
	_ "embed"

	provider "enos-pulumi/plugins/openstack"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
)

//go:embed schema.json
var schema []byte

func main() {
	tfbridge.Main("openstack", provider.Version, provider.Info(), schema)
}
