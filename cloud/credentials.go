package cloud

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// StaticCredentials are fixed credentials (the sandbox's, or a test's).
// Their String, GoString and Format never show the secret or the token.
type StaticCredentials struct {
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken is set for STS credentials.
	SecurityToken string
}

// String shows a masked AccessKey ID only.
func (s StaticCredentials) String() string {
	tok := ""
	if s.SecurityToken != "" {
		tok = ", SecurityToken: [REDACTED]"
	}
	return fmt.Sprintf("StaticCredentials{AccessKeyID: %s, AccessKeySecret: [REDACTED]%s}", maskID(s.AccessKeyID), tok)
}

// GoString is String: %#v must not print the secret either.
func (s StaticCredentials) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s StaticCredentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// maskID keeps the first four characters of an AccessKey ID.
func maskID(id string) string {
	if len(id) <= 4 {
		return "****"
	}
	return id[:4] + "****"
}

// MissingCredentialsMessage is the message of a CodeMissingCredentials
// error when no credentials are configured at all.
const MissingCredentialsMessage = "no Alibaba Cloud credentials found: set ALIBABA_CLOUD_ACCESS_KEY_ID and " +
	"ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), or configure a profile with " +
	"'aliyun configure' and pass --profile, or run with --sandbox to use the built-in emulator"

// missingCredentialsRetry is how long a failed look-up of the credential
// chain is remembered, so that the batches of one call do not walk the
// chain (files, and on ECS the instance metadata service) again and again.
const missingCredentialsRetry = 5 * time.Second

// chainProvider is the SDK's default credential chain
// (sdk/auth/credentials/default_credentials_provider.go: environment, OIDC,
// aliyun CLI profile, credentials file, ECS instance RAM role, credentials
// URI), or, with a profile name, the two profile providers for that name.
//
// It differs from the SDK's DefaultCredentialsProvider in four ways: it
// asks the ECS instance metadata service only on ECS (see
// useInstanceMetadata); it is safe for concurrent use (the SDK's mutates
// lastUsedProvider unguarded); it only remembers a provider that worked
// (the SDK's remembers the last one tried, even when all failed); and it
// fails with an *Error whose message says how to configure credentials,
// never with a provider's own text (which can quote a whole config file,
// secrets included).
type chainProvider struct {
	profile string
	scrub   *scrubber
	// getenv and dmiDir are where useInstanceMetadata looks;
	// newMetadataProvider builds the ECS RAM role provider. Tests replace
	// them.
	getenv              func(string) string
	dmiDir              string
	newMetadataProvider func() (credentials.CredentialsProvider, error)

	mu        sync.Mutex
	providers []namedProvider
	built     bool
	current   credentials.CredentialsProvider
	failedAt  time.Time
	failure   *Error
	now       func() time.Time
}

type namedProvider struct {
	name string // the SDK's provider name: env, oidc_role_arn, cli_profile, ...
	p    credentials.CredentialsProvider
}

func newChainProvider(profile string, scrub *scrubber) *chainProvider {
	return &chainProvider{profile: profile, scrub: scrub, now: time.Now, getenv: getenv, dmiDir: dmiDir,
		newMetadataProvider: func() (credentials.CredentialsProvider, error) {
			return credentials.NewECSRAMRoleCredentialsProviderBuilder().Build()
		}}
}

// dmiDir holds the machine's DMI (SMBIOS) strings on Linux.
const dmiDir = "/sys/class/dmi/id"

// useInstanceMetadata reports whether the chain should ask the ECS
// instance metadata service (100.100.100.200) for a RAM role's
// credentials. The SDK asks wherever it runs unless
// ALIBABA_CLOUD_ECS_METADATA_DISABLED=true; off ECS nothing answers, and
// the look-up costs about 2 s (two 1 s timeouts) before a laptop without
// credentials hears that it has none. So it is asked only when a role name
// is configured (ALIBABA_CLOUD_ECS_METADATA), or when the machine says it
// is an ECS instance, which its DMI strings do locally and at once
// ("Alibaba Cloud" as the vendor, "Alibaba Cloud ECS" as the product).
func (c *chainProvider) useInstanceMetadata() bool {
	if strings.EqualFold(c.getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "true") {
		return false
	}
	if c.getenv("ALIBABA_CLOUD_ECS_METADATA") != "" {
		return true
	}
	for _, name := range []string{"sys_vendor", "product_name"} {
		b, err := os.ReadFile(filepath.Join(c.dmiDir, name))
		if err == nil && strings.Contains(strings.ToLower(string(b)), "alibaba cloud") {
			return true
		}
	}
	return false
}

// build creates the providers the way NewDefaultCredentialsProvider does.
// It runs on first use, not in New, so that New touches no file or network.
func (c *chainProvider) build() {
	if c.built {
		return
	}
	c.built = true
	if c.profile != "" {
		c.providers = []namedProvider{
			{"cli_profile", credentials.NewCLIProfileCredentialsProviderBuilder().WithProfileName(c.profile).Build()},
			{"profile", credentials.NewProfileCredentialsProviderBuilder().WithProfileName(c.profile).Build()},
		}
		return
	}
	c.providers = append(c.providers, namedProvider{"env", credentials.NewEnvironmentVariableCredentialsProvider()})
	if p, err := credentials.NewOIDCCredentialsProviderBuilder().Build(); err == nil {
		c.providers = append(c.providers, namedProvider{"oidc_role_arn", p})
	}
	c.providers = append(c.providers,
		namedProvider{"cli_profile", credentials.NewCLIProfileCredentialsProviderBuilder().Build()},
		namedProvider{"profile", credentials.NewProfileCredentialsProviderBuilder().Build()},
	)
	// The SDK adds the ECS metadata provider unless
	// ALIBABA_CLOUD_ECS_METADATA_DISABLED=true, even without a role name:
	// it then asks 100.100.100.200 for one (1 s timeouts). Here only on
	// ECS, or with a role name (see useInstanceMetadata).
	if c.useInstanceMetadata() {
		if p, err := c.newMetadataProvider(); err == nil {
			c.providers = append(c.providers, namedProvider{"ecs_ram_role", p})
		}
	}
	if c.getenv("ALIBABA_CLOUD_CREDENTIALS_URI") != "" {
		if p, err := credentials.NewURLCredentialsProviderBuilderBuilder().Build(); err == nil {
			c.providers = append(c.providers, namedProvider{"credential_uri", p})
		}
	}
}

// GetProviderName is sent by the SDK in the x-acs-credentials-provider header.
func (c *chainProvider) GetProviderName() string {
	if c.profile != "" {
		return "profile"
	}
	return "default"
}

// GetCredentials implements credentials.CredentialsProvider.
func (c *chainProvider) GetCredentials() (*credentials.Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil {
		cc, err := c.current.GetCredentials()
		if err == nil && cc != nil {
			c.scrub.add(cc.AccessKeySecret, cc.SecurityToken, cc.BearerToken)
			return c.named(cc, c.current), nil
		}
		// The provider that worked stopped working (an expired role, a
		// removed variable): walk the chain again.
		c.current = nil
	}
	if c.failure != nil && c.now().Sub(c.failedAt) < missingCredentialsRetry {
		return nil, c.failure
	}
	c.build()
	var broken []string
	for _, np := range c.providers {
		cc, err := np.p.GetCredentials()
		if err == nil && cc != nil && cc.AccessKeyId != "" {
			c.current = np.p
			c.failure = nil
			c.scrub.add(cc.AccessKeySecret, cc.SecurityToken, cc.BearerToken)
			return c.named(cc, np.p), nil
		}
		if err != nil && !credentialSourceAbsent(np.name, err) {
			broken = append(broken, np.name)
		}
	}
	c.failure = c.missing(broken)
	c.failedAt = c.now()
	return nil, c.failure
}

func (c *chainProvider) named(cc *credentials.Credentials, p credentials.CredentialsProvider) *credentials.Credentials {
	name := cc.ProviderName
	if name == "" {
		name = p.GetProviderName()
	}
	return &credentials.Credentials{
		AccessKeyId:     cc.AccessKeyId,
		AccessKeySecret: cc.AccessKeySecret,
		SecurityToken:   cc.SecurityToken,
		BearerToken:     cc.BearerToken,
		ProviderName:    c.GetProviderName() + "/" + name,
	}
}

// absentMarkers are the SDK's errors (v1.63.107) for a credential source
// that is simply not configured, per provider. Any other error means the
// source exists but failed (a malformed file, an STS call that failed).
var absentMarkers = map[string][]string{
	"env":            {"unable to get credentials from enviroment variables", "unable to get credentials from environment variables"},
	"cli_profile":    {"the cli profile is disabled", "reading aliyun cli config from", "cannot found home dir", "no any configured profiles", "unable to get profile with"},
	"profile":        {"can not open file", "can not load section", "cannot found home dir"},
	"ecs_ram_role":   {"get role name failed", "get metadata token failed"},
	"oidc_role_arn":  {},
	"credential_uri": {},
}

func credentialSourceAbsent(name string, err error) bool {
	text := strings.ToLower(err.Error())
	for _, m := range absentMarkers[name] {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

var sourceDescriptions = map[string]string{
	"env":            "the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET",
	"oidc_role_arn":  "the OIDC role settings (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)",
	"cli_profile":    "the aliyun CLI configuration (~/.aliyun/config.json)",
	"profile":        "the credentials file (~/.alibabacloud/credentials or ALIBABA_CLOUD_CREDENTIALS_FILE)",
	"ecs_ram_role":   "the ECS instance RAM role (ALIBABA_CLOUD_ECS_METADATA)",
	"credential_uri": "ALIBABA_CLOUD_CREDENTIALS_URI",
}

func (c *chainProvider) missing(broken []string) *Error {
	if len(broken) > 0 {
		var srcs []string
		for _, b := range broken {
			srcs = append(srcs, sourceDescriptions[b])
		}
		prefix := "no usable Alibaba Cloud credentials"
		if c.profile != "" {
			prefix += fmt.Sprintf(" in profile %q", c.profile)
		}
		return &Error{Code: CodeMissingCredentials, Message: prefix + ": credentials were found in " +
			strings.Join(srcs, " and ") + " but could not be used (a malformed entry, an unsupported mode, " +
			"or a role that could not be assumed); fix that configuration, or run with --sandbox to use the built-in emulator"}
	}
	if c.profile != "" {
		return &Error{Code: CodeMissingCredentials, Message: fmt.Sprintf("no Alibaba Cloud credentials found for profile %q: "+
			"it is neither in ~/.aliyun/config.json (create it with 'aliyun configure --profile %s') nor a section of "+
			"~/.alibabacloud/credentials; or omit --profile to use ALIBABA_CLOUD_ACCESS_KEY_ID and "+
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run with --sandbox to use the built-in emulator", c.profile, c.profile)}
	}
	return &Error{Code: CodeMissingCredentials, Message: MissingCredentialsMessage}
}
