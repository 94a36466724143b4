// Package schema is the contract between the server and the model: one Go
// struct per tool input and per tool output, the JSON schemas generated from
// them, and the local validation of inputs. It does no I/O.
//
// The rules here are written from the API documentation independently of
// the emulator's, so that each checks the other.
package schema

// Tag is a key pair tag.
type Tag struct {
	Key   string `json:"key" jsonschema:"minLength=1,maxLength=128" jsonschema_description:"1-128 characters; not starting with aliyun or acs:."`
	Value string `json:"value,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Up to 128 characters."`
}

// DescribeRegionsInput takes no arguments.
type DescribeRegionsInput struct{}

// DescribeRegionsOutput lists the regions ECS offers.
type DescribeRegionsOutput struct {
	Regions []Region `json:"regions"`
}

// Region is one ECS region.
type Region struct {
	RegionID       string `json:"regionId" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	LocalName      string `json:"localName"`
	RegionEndpoint string `json:"regionEndpoint"`
	Status         string `json:"status"`
}

// DescribeInstancesInput finds instances, e.g. those that carry a key pair.
type DescribeInstancesInput struct {
	RegionID    string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	InstanceIDs []string `json:"instanceIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Only these instances (up to 100 IDs, e.g. i-bp1...)."`
	KeyPairName string   `json:"keyPairName,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Only instances that carry this key pair (exact name)."`
	Status      string   `json:"status,omitempty" jsonschema:"enum=Pending,enum=Running,enum=Starting,enum=Stopping,enum=Stopped" jsonschema_description:"Only instances in this state."`
	PageNumber  int      `json:"pageNumber,omitempty" jsonschema:"minimum=1" jsonschema_description:"With pageSize: one API page. Omit both for every match."`
	PageSize    int      `json:"pageSize,omitempty" jsonschema:"minimum=1,maximum=100" jsonschema_description:"Instances per page, 1-100."`
	NextToken   string   `json:"nextToken,omitempty" jsonschema:"maxLength=1024" jsonschema_description:"A truncated result's nextToken, to continue it (same other arguments)."`
}

// DescribeInstancesOutput lists instances.
type DescribeInstancesOutput struct {
	TotalCount int        `json:"totalCount" jsonschema_description:"All matches, also when truncated."`
	Instances  []Instance `json:"instances"`
	Truncated  bool       `json:"truncated,omitempty" jsonschema_description:"More match than fit: continue with nextToken."`
	NextToken  string     `json:"nextToken,omitempty" jsonschema_description:"Continues a truncated listing."`
}

// Instance is an ECS instance as far as key pairs are concerned.
type Instance struct {
	InstanceID   string `json:"instanceId"`
	InstanceName string `json:"instanceName"`
	Status       string `json:"status"`
	OSType       string `json:"osType" jsonschema_description:"Windows cannot use key pairs."`
	KeyPairName  string `json:"keyPairName"`
	RegionID     string `json:"regionId"`
	ZoneID       string `json:"zoneId"`
}

// DescribeKeyPairsInput finds key pairs.
type DescribeKeyPairsInput struct {
	RegionID           string   `json:"regionId,omitempty" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou; or give regionIds."`
	RegionIDs          []string `json:"regionIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Several regions at once, or [\"*\"] for every region describe_regions lists; instead of regionId."`
	KeyPairName        string   `json:"keyPairName,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Name filter; '*' matches any run of characters, e.g. 'web*' or '*prod*'. Case-sensitive. Without '*' it is an exact match."`
	KeyPairFingerPrint string   `json:"keyPairFingerPrint,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Only the key pair with this MD5 fingerprint (colon-separated hex, as ssh-keygen -l -E md5 prints after 'MD5:')."`
	IncludePublicKey   bool     `json:"includePublicKey,omitempty" jsonschema_description:"Also return each key pair's public key."`
	IncludeInstances   bool     `json:"includeInstances,omitempty" jsonschema_description:"Also return which instances carry each key pair (instanceCount, instanceIds)."`
	InUse              *bool    `json:"inUse,omitempty" jsonschema_description:"false: only key pairs no instance carries (unused); true: only those some instance carries. Implies includeInstances."`
	PageNumber         int      `json:"pageNumber,omitempty" jsonschema:"minimum=1" jsonschema_description:"With pageSize: one API page of one region. Omit both for every match."`
	PageSize           int      `json:"pageSize,omitempty" jsonschema:"minimum=1,maximum=50" jsonschema_description:"Key pairs per page, 1-50."`
	NextToken          string   `json:"nextToken,omitempty" jsonschema:"maxLength=1024" jsonschema_description:"A truncated result's nextToken, to continue it (same other arguments)."`
	ResourceGroupID    string   `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Only key pairs in this resource group."`
	Tags               []Tag    `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Only key pairs that carry all of these tags; a tag without a value matches any value."`
}

// DescribeKeyPairsOutput lists key pairs.
type DescribeKeyPairsOutput struct {
	TotalCount   int           `json:"totalCount" jsonschema_description:"All matches, also when truncated."`
	KeyPairs     []KeyPair     `json:"keyPairs"`
	RegionErrors []RegionError `json:"regionErrors,omitempty" jsonschema_description:"Regions that could not be read."`
	Truncated    bool          `json:"truncated,omitempty" jsonschema_description:"More match than fit: continue with nextToken."`
	NextToken    string        `json:"nextToken,omitempty" jsonschema_description:"Continues a truncated listing."`
}

// RegionError is a region a call could not serve.
type RegionError struct {
	RegionID string `json:"regionId"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// KeyPair is a key pair as DescribeKeyPairs reports it.
type KeyPair struct {
	KeyPairName        string `json:"keyPairName"`
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint."`
	CreationTime       string `json:"creationTime" jsonschema_description:"UTC."`
	ResourceGroupID    string `json:"resourceGroupId"`
	PublicKey          string `json:"publicKey,omitempty"`
	Tags               []Tag  `json:"tags"`
	RegionID           string `json:"regionId"`
	// InstanceCount and InstanceIDs are set with includeInstances.
	InstanceCount *int     `json:"instanceCount,omitempty" jsonschema_description:"With includeInstances."`
	InstanceIDs   []string `json:"instanceIds,omitempty"`
}

// CreateKeyPairInput creates a key pair; the private key goes to a file.
type CreateKeyPairInput struct {
	RegionID        string `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	KeyPairName     string `json:"keyPairName" jsonschema:"minLength=2,maxLength=128,pattern=^[A-Za-zÀ-￿][A-Za-z0-9À-￿:_-]*$" jsonschema_description:"2-128 characters: starts with a letter, then letters, digits, ':', '_' or '-'. Unique in the region. Also the private key file's name (<name>.<regionId>.pem)."`
	ResourceGroupID string `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Resource group; default: the account's default."`
	Tags            []Tag  `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Up to 20 tags, each key once."`
}

// CreateKeyPairOutput says where the private key was written. The key
// itself never appears in a result.
type CreateKeyPairOutput struct {
	KeyPairID          string `json:"keyPairId"`
	KeyPairName        string `json:"keyPairName"`
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint."`
	PrivateKeyFile     string `json:"privateKeyFile" jsonschema_description:"Private key file (mode 0600) on the server's machine."`
	RequestID          string `json:"requestId"`
}

// ImportKeyPairInput imports an existing public key.
type ImportKeyPairInput struct {
	RegionID        string   `json:"regionId,omitempty" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou; or give regionIds."`
	RegionIDs       []string `json:"regionIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Import into several regions at once, or [\"*\"] for every region describe_regions lists; instead of regionId."`
	KeyPairName     string   `json:"keyPairName" jsonschema:"minLength=2,maxLength=128,pattern=^[A-Za-zÀ-￿][A-Za-z0-9À-￿:_.-]*$" jsonschema_description:"2-128 characters: starts with a letter, then letters, digits, ':', '_', '-' or '.'. Unique in the region."`
	PublicKeyBody   string   `json:"publicKeyBody" jsonschema:"minLength=1,maxLength=16384" jsonschema_description:"One OpenSSH public key line, '<type> <base64> [comment]' (the contents of a .pub file). Types: ssh-rsa, ssh-dss, ecdsa-sha2-nistp256/384/521; ssh-ed25519 is not supported by ECS. Never a private key."`
	ResourceGroupID string   `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Resource group; default: the account's default."`
	Tags            []Tag    `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Up to 20 tags, each key once."`
}

// ImportKeyPairOutput describes the imported key pair.
type ImportKeyPairOutput struct {
	KeyPairName        string `json:"keyPairName"`
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint (ssh-keygen -l -E md5)."`
	RequestID          string `json:"requestId" jsonschema_description:"Empty with regionIds."`
	// Regions are set with regionIds: one per region, in order.
	Regions []ImportRegionOutcome `json:"regions,omitempty" jsonschema_description:"With regionIds: per region."`
}

// ImportRegionOutcome is an import's fate in one region.
type ImportRegionOutcome struct {
	RegionID           string `json:"regionId"`
	Outcome            string `json:"outcome" jsonschema:"enum=imported,enum=exists,enum=failed" jsonschema_description:"exists: there with the same public key already."`
	KeyPairFingerPrint string `json:"keyPairFingerPrint,omitempty"`
	Code               string `json:"code,omitempty"`
	Message            string `json:"message,omitempty"`
	RequestID          string `json:"requestId,omitempty"`
}

// DeleteKeyPairsInput deletes key pairs; without confirm it only previews.
type DeleteKeyPairsInput struct {
	RegionID     string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	KeyPairNames []string `json:"keyPairNames" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Names of the key pairs to delete (1-500; exact names, no wildcards)."`
	Confirm      bool     `json:"confirm,omitempty" jsonschema_description:"Absent or false: only preview. true: delete (after the user's approval where the client can ask)."`
}

// DeleteKeyPairsOutput reports, per key pair, what happened or would happen.
type DeleteKeyPairsOutput struct {
	Executed   bool            `json:"executed" jsonschema_description:"false: a preview; nothing changed."`
	KeyPairs   []DeleteOutcome `json:"keyPairs"`
	RequestIDs []string        `json:"requestIds,omitempty"`
}

// DeleteOutcome is one key pair's fate.
type DeleteOutcome struct {
	KeyPairName        string   `json:"keyPairName"`
	KeyPairFingerPrint string   `json:"keyPairFingerPrint,omitempty"`
	Outcome            string   `json:"outcome" jsonschema:"enum=deleted,enum=would_delete,enum=not_found,enum=bound,enum=failed" jsonschema_description:"bound: attached to instances, so not deletable (detach it first)."`
	BoundInstances     []string `json:"boundInstances,omitempty" jsonschema_description:"Instances that carry this key pair."`
	Code               string   `json:"code,omitempty"`
	Message            string   `json:"message,omitempty"`
}

// BindKeyPairInput attaches a key pair to instances, or detaches it.
type BindKeyPairInput struct {
	RegionID    string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	KeyPairName string   `json:"keyPairName" jsonschema:"minLength=2,maxLength=128" jsonschema_description:"The key pair's exact name."`
	InstanceIDs []string `json:"instanceIds" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Instance IDs (1-500), e.g. i-bp1...; see describe_instances."`
	Confirm     bool     `json:"confirm,omitempty" jsonschema_description:"Absent or false: only preview. true: make the change (after the user's approval where the client can ask)."`
}

// AttachKeyPairInput attaches a key pair to instances.
type AttachKeyPairInput = BindKeyPairInput

// DetachKeyPairInput detaches a key pair from instances.
type DetachKeyPairInput = BindKeyPairInput

// BindKeyPairOutput reports, per instance, what happened or would happen.
type BindKeyPairOutput struct {
	Executed           bool          `json:"executed" jsonschema_description:"false: a preview; nothing changed."`
	KeyPairName        string        `json:"keyPairName"`
	KeyPairFingerPrint string        `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint of the key pair."`
	Instances          []BindOutcome `json:"instances"`
	// RebootRequired lists Running instances whose change takes effect
	// after a reboot; TakesEffectOnStart lists Stopped ones.
	RebootRequired     []string `json:"rebootRequired" jsonschema_description:"Running ones: the change applies after a reboot (reboot_instances)."`
	TakesEffectOnStart []string `json:"takesEffectOnStart" jsonschema_description:"Stopped ones: the change applies at start."`
	RequestIDs         []string `json:"requestIds,omitempty"`
}

// BindOutcome is one instance's fate.
type BindOutcome struct {
	InstanceID         string `json:"instanceId"`
	InstanceName       string `json:"instanceName,omitempty"`
	Status             string `json:"status,omitempty"`
	OSType             string `json:"osType,omitempty"`
	CurrentKeyPairName string `json:"currentKeyPairName,omitempty"`
	// ReplacedKeyPairName is set by an attach that replaced another key
	// pair on the instance.
	ReplacedKeyPairName string `json:"replacedKeyPairName,omitempty"`
	Outcome             string `json:"outcome" jsonschema:"enum=attached,enum=detached,enum=would_attach,enum=would_replace,enum=would_detach,enum=unchanged,enum=not_found,enum=failed,enum=would_fail" jsonschema_description:"would_replace: another key pair would be replaced."`
	Code                string `json:"code,omitempty"`
	Message             string `json:"message,omitempty"`
}

// RebootInstancesInput reboots instances; without confirm it only previews.
type RebootInstancesInput struct {
	RegionID    string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	InstanceIDs []string `json:"instanceIds" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Instance IDs (1-500); only Running ones are rebooted."`
	ForceReboot bool     `json:"forceReboot,omitempty" jsonschema_description:"Force it, like cutting the power: unsaved data is lost. Default: a normal reboot."`
	Wait        *bool    `json:"wait,omitempty" jsonschema_description:"true (default): wait until they are Running again; false: return once the reboot is sent."`
	Confirm     bool     `json:"confirm,omitempty" jsonschema_description:"Absent or false: only preview. true: reboot (after the user's approval where the client can ask)."`
}

// RebootInstancesOutput reports, per instance, what happened or would
// happen.
type RebootInstancesOutput struct {
	Executed   bool            `json:"executed" jsonschema_description:"false: a preview; nothing changed."`
	Instances  []RebootOutcome `json:"instances"`
	RequestIDs []string        `json:"requestIds,omitempty"`
}

// RebootOutcome is one instance's fate.
type RebootOutcome struct {
	InstanceID   string `json:"instanceId"`
	InstanceName string `json:"instanceName,omitempty"`
	Outcome      string `json:"outcome" jsonschema:"enum=would_reboot,enum=rebooted,enum=reboot_sent,enum=not_running,enum=not_found,enum=failed,enum=timed_out_waiting" jsonschema_description:"rebooted: Running again; reboot_sent: not waited for; not_running: left alone."`
	Status       string `json:"status,omitempty"`
	Code         string `json:"code,omitempty"`
	Message      string `json:"message,omitempty"`
}

// RotateKeyPairInput replaces one key pair with another on instances, as
// one plan; without confirm it only previews.
type RotateKeyPairInput struct {
	RegionID        string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou."`
	FromKeyPairName string   `json:"fromKeyPairName" jsonschema:"minLength=2,maxLength=128" jsonschema_description:"The key pair to replace."`
	ToKeyPairName   string   `json:"toKeyPairName" jsonschema:"minLength=2,maxLength=128" jsonschema_description:"The new key pair: reused if it exists, else imported from publicKeyBody, else created (private key written to a file, as create_key_pair)."`
	PublicKeyBody   string   `json:"publicKeyBody,omitempty" jsonschema:"maxLength=16384" jsonschema_description:"The new public key (a .pub line), to import as toKeyPairName."`
	InstanceIDs     []string `json:"instanceIds,omitempty" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Only these of the instances carrying fromKeyPairName; default: all of them."`
	Reboot          bool     `json:"reboot,omitempty" jsonschema_description:"Reboot the Running ones and wait for them, so the new key takes effect. Default: list them in rebootRequired."`
	DeleteOld       bool     `json:"deleteOld,omitempty" jsonschema_description:"Then delete fromKeyPairName, only if no instance carries it any more."`
	Confirm         bool     `json:"confirm,omitempty" jsonschema_description:"Absent or false: only return the plan. true: carry it out (after the user's approval where the client can ask)."`
}

// RotateKeyPairOutput is a rotation's plan or what it did, step by step.
type RotateKeyPairOutput struct {
	Executed bool           `json:"executed" jsonschema_description:"false: the plan; nothing changed."`
	Steps    []RotationStep `json:"steps"`
	// RebootRequired are Running instances that carry the new key pair,
	// not rebooted yet.
	RebootRequired []string `json:"rebootRequired" jsonschema_description:"Running ones: the new key applies after a reboot (reboot_instances)."`
	PrivateKeyFile string   `json:"privateKeyFile,omitempty" jsonschema_description:"The created key pair's private key file."`
	Remaining      []string `json:"remaining" jsonschema_description:"What is left to do; empty when complete."`
	RequestIDs     []string `json:"requestIds,omitempty"`
}

// RotationStep is one step of a rotation and what became of its items.
type RotationStep struct {
	Step  string         `json:"step" jsonschema:"enum=new_key,enum=attach,enum=reboot,enum=delete_old"`
	Items []RotationItem `json:"items"`
}

// RotationItem is one key pair or instance in a step.
type RotationItem struct {
	Item    string `json:"item"`
	Outcome string `json:"outcome" jsonschema_description:"would_* in the plan; kept: the old key pair, still carried."`
	Status  string `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}
