// Package provider bridges the Terraform OpenStack provider to Pulumi under the type tokens of the
// @pulumi/openstack SDK the project uses: Pulumi's own provider module is not served here.
package provider

import (
	_ "embed"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-provider-openstack/terraform-provider-openstack/v3/openstack"
)

// Version is the SDK's version, stamped at build time: the engine asks for the plugin by it.
var Version = "0.0.0-dev"

// The SDK's type tokens (`openstack:<module>/<member>:<Name>`), one a line, extracted from
// node_modules/@pulumi/openstack by scripts/build-openstack-plugin.
//
//go:embed tokens.txt
var sdkTokens string

// The SDK's module names where Terraform abbreviates them; `index` members carry their module in their name.
var terraformModule = map[string]string{"database": "db", "firewall": "fw", "loadbalancer": "lb", "index": ""}

// SDK members whose name is not Terraform's (typos and renames kept by the SDK for compatibility).
var renamed = map[string]string{
	"openstack:objectstorage/containerObject:ContainerObject":            "openstack_objectstorage_object_v1",
	"openstack:blockstorage/quoteSetV3:QuoteSetV3":                       "openstack_blockstorage_quotaset_v3",
	"openstack:sharedfilesystem/getAvailbilityZones:getAvailbilityZones": "openstack_sharedfilesystem_availability_zones_v2",
}

var terraformName = regexp.MustCompile(`^openstack_(.+)_(v\d+)$`)

func fold(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// match maps each SDK token to the Terraform resource or data source of the same name: first where the
// SDK name carries the version (VolumeV2 -> ..._volume_v2), then the newest unclaimed version.
func match(tfNames []string, sdk []string) map[string]string {
	byVersioned, byBase := map[string]string{}, map[string][]string{}
	for _, tf := range tfNames {
		if m := terraformName.FindStringSubmatch(tf); m != nil {
			byVersioned[fold(m[1])+m[2]] = tf
			byBase[fold(m[1])] = append(byBase[fold(m[1])], tf)
		}
	}
	for _, names := range byBase {
		sort.Sort(sort.Reverse(sort.StringSlice(names)))
	}
	mapped, claimed := map[string]string{}, map[string]bool{}
	keys := func(tok string) []string {
		parts := strings.SplitN(strings.TrimPrefix(tok, "openstack:"), "/", 2)
		member := strings.SplitN(parts[1], ":", 2)[1]
		member = fold(strings.TrimPrefix(member, "get"))
		module, abbreviated := terraformModule[parts[0]]
		if !abbreviated {
			module = parts[0]
		}
		return []string{module + member, member}
	}
	for _, tok := range sdk {
		if tf, ok := renamed[tok]; ok && slices.Contains(tfNames, tf) {
			mapped[tok], claimed[tf] = tf, true
		}
	}
	for _, tok := range sdk {
		for _, key := range keys(tok) {
			if tf, ok := byVersioned[key]; ok && mapped[tok] == "" && !claimed[tf] {
				mapped[tok], claimed[tf] = tf, true
			}
		}
	}
	for _, tok := range sdk {
		for _, key := range keys(tok) {
			for _, tf := range byBase[key] {
				if mapped[tok] == "" && !claimed[tf] {
					mapped[tok], claimed[tf] = tf, true
				}
			}
		}
	}
	return mapped
}

// Info is the bridged provider: every SDK class and function that Terraform OpenStack v3 still has,
// under the SDK's token; the rest (removed upstream) is reported by Unmapped.
func Info() tfbridge.ProviderInfo {
	p := shimv2.NewProvider(openstack.Provider())
	var resources, functions []string
	for _, tok := range strings.Fields(sdkTokens) {
		member := tok[strings.LastIndex(tok, ":")+1:]
		if strings.HasPrefix(member, "get") {
			functions = append(functions, tok)
		} else {
			resources = append(resources, tok)
		}
	}
	info := tfbridge.ProviderInfo{
		P: p, Name: "openstack", Version: Version, GitHubOrg: "terraform-provider-openstack",
		Resources: map[string]*tfbridge.ResourceInfo{}, DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	mappedResources := match(keysOf(p.ResourcesMap().Range), resources)
	for tok, tf := range mappedResources {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: tokens.Type(tok)}
	}
	mappedFunctions := match(keysOf(p.DataSourcesMap().Range), functions)
	for tok, tf := range mappedFunctions {
		info.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(tok)}
	}
	// Newer than the SDK, which has no class for them.
	for _, tf := range keysOf(p.ResourcesMap().Range) {
		if info.Resources[tf] == nil {
			info.IgnoreMappings = append(info.IgnoreMappings, tf)
		}
	}
	for _, tf := range keysOf(p.DataSourcesMap().Range) {
		if info.DataSources[tf] == nil {
			info.IgnoreMappings = append(info.IgnoreMappings, tf)
		}
	}
	// Without it a resource whose `name` is left out fails: the SDK expects the engine to name it.
	info.SetAutonaming(255, "-")
	return info
}

// Unmapped lists the SDK tokens Terraform OpenStack no longer has, for tfgen's report.
func Unmapped(info tfbridge.ProviderInfo) []string {
	mapped := map[string]bool{}
	for _, r := range info.Resources {
		mapped[string(r.Tok)] = true
	}
	for _, d := range info.DataSources {
		mapped[string(d.Tok)] = true
	}
	var missing []string
	for _, tok := range strings.Fields(sdkTokens) {
		if !mapped[tok] {
			missing = append(missing, tok)
		}
	}
	return missing
}

func keysOf[V any](rangeFn func(func(string, V) bool)) []string {
	var keys []string
	rangeFn(func(k string, _ V) bool { keys = append(keys, k); return true })
	sort.Strings(keys)
	return keys
}
