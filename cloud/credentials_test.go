package cloud

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// TestInstanceMetadataOnlyOnECS: the chain asks the ECS metadata service
// only on an ECS instance (by its DMI strings) or when a role name is set,
// so that elsewhere a missing credential is reported at once. Nothing here
// touches the network: the environment and the DMI directory are fakes,
// and the metadata provider is a stand-in that records being built.
func TestInstanceMetadataOnlyOnECS(t *testing.T) {
	// The SDK's own builders read the process environment: keep its
	// metadata probe off there too. The decision under test reads the fake.
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	dmi := func(t *testing.T, vendor, product string) string {
		dir := t.TempDir()
		for name, v := range map[string]string{"sys_vendor": vendor, "product_name": product} {
			if v == "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for _, tc := range []struct {
		name            string
		env             map[string]string
		vendor, product string
		want            bool
	}{
		{name: "a laptop", vendor: "LENOVO", product: "20XW004AUS", want: false},
		{name: "no DMI at all (macOS, Windows, a container)", want: false},
		{name: "another cloud", vendor: "Amazon EC2", product: "m5.large", want: false},
		{name: "an ECS instance", vendor: "Alibaba Cloud", product: "Alibaba Cloud ECS", want: true},
		{name: "an ECS instance, product only", product: "Alibaba Cloud ECS", want: true},
		{name: "a role name configured", env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA": "my-role"}, want: true},
		{name: "disabled on ECS", env: map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "True"},
			vendor: "Alibaba Cloud", product: "Alibaba Cloud ECS", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			built := false
			c := newChainProvider("", &scrubber{})
			c.getenv = func(k string) string { return tc.env[k] }
			c.dmiDir = dmi(t, tc.vendor, tc.product)
			c.newMetadataProvider = func() (credentials.CredentialsProvider, error) {
				built = true
				return nil, errors.New("not on this test's network")
			}
			if got := c.useInstanceMetadata(); got != tc.want {
				t.Errorf("useInstanceMetadata() = %v, want %v", got, tc.want)
			}
			c.build()
			if built != tc.want {
				t.Errorf("metadata provider built: %v, want %v", built, tc.want)
			}
			var names []string
			for _, p := range c.providers {
				names = append(names, p.name)
			}
			if slices.Contains(names, "ecs_ram_role") {
				t.Errorf("providers %v include the metadata provider, whose builder failed", names)
			}
		})
	}
}

// TestNoMetadataProbeOffECS: off ECS, a chain without any credential
// reports MissingCredentials without asking the metadata service.
func TestNoMetadataProbeOffECS(t *testing.T) {
	clearCredentialEnv(t)
	c := newChainProvider("", &scrubber{})
	c.dmiDir = t.TempDir() // no DMI strings: not ECS
	c.getenv = func(string) string { return "" }
	c.newMetadataProvider = func() (credentials.CredentialsProvider, error) {
		t.Fatal("the metadata provider was built off ECS")
		return nil, nil
	}
	_, err := c.GetCredentials()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeMissingCredentials || e.Message != MissingCredentialsMessage {
		t.Fatalf("GetCredentials() = %v, want %s", err, CodeMissingCredentials)
	}
}
