// Package schema is the contract between the server and the model: one Go
// struct per tool input and per tool output, the JSON schemas generated from
// them, and the local validation of inputs. It does no I/O.
//
// The rules here are written from the API documentation independently of
// the emulator's, so that each checks the other.
package schema

// Tag is a key pair tag.
type Tag struct {
	Key   string `json:"key" jsonschema:"minLength=1,maxLength=128" jsonschema_description:"Tag key: 1-128 characters; must not start with 'aliyun' or 'acs:' or contain 'http://' or 'https://'."`
	Value string `json:"value,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Tag value: up to 128 characters, may be empty; must not start with 'acs:' or contain 'http://' or 'https://'."`
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
	LocalName      string `json:"localName" jsonschema_description:"Region name, e.g. China (Hangzhou)."`
	RegionEndpoint string `json:"regionEndpoint" jsonschema_description:"The region's ECS API endpoint."`
	Status         string `json:"status" jsonschema_description:"available or soldOut."`
}

// DescribeInstancesInput finds instances, e.g. those that carry a key pair.
type DescribeInstancesInput struct {
	RegionID    string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions)."`
	InstanceIDs []string `json:"instanceIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Only these instances (up to 100 IDs, e.g. i-bp1...)."`
	KeyPairName string   `json:"keyPairName,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Only instances that carry this key pair (exact name)."`
	Status      string   `json:"status,omitempty" jsonschema:"enum=Pending,enum=Running,enum=Starting,enum=Stopping,enum=Stopped" jsonschema_description:"Only instances in this state."`
	PageNumber  int      `json:"pageNumber,omitempty" jsonschema:"minimum=1" jsonschema_description:"Page to return, from 1. Give pageNumber and pageSize for one API page; omit both for every match (as many as fit one result; see nextToken)."`
	PageSize    int      `json:"pageSize,omitempty" jsonschema:"minimum=1,maximum=100" jsonschema_description:"Instances per page, 1-100."`
	NextToken   string   `json:"nextToken,omitempty" jsonschema:"maxLength=1024" jsonschema_description:"The nextToken of a truncated result, to continue where it stopped; with the same other arguments."`
}

// DescribeInstancesOutput lists instances.
type DescribeInstancesOutput struct {
	TotalCount int        `json:"totalCount" jsonschema_description:"Number of matching instances, all of them, also when this result holds only some."`
	Instances  []Instance `json:"instances"`
	Truncated  bool       `json:"truncated,omitempty" jsonschema_description:"true: more instances match than fit one result; call again with nextToken."`
	NextToken  string     `json:"nextToken,omitempty" jsonschema_description:"Pass it back, with the same other arguments, for the instances after these."`
}

// Instance is an ECS instance as far as key pairs are concerned.
type Instance struct {
	InstanceID   string `json:"instanceId"`
	InstanceName string `json:"instanceName"`
	Status       string `json:"status" jsonschema_description:"Pending, Running, Starting, Stopping or Stopped."`
	OSType       string `json:"osType" jsonschema_description:"linux or windows. Windows instances cannot use SSH key pairs."`
	KeyPairName  string `json:"keyPairName" jsonschema_description:"The key pair the instance carries; empty when none."`
	RegionID     string `json:"regionId"`
	ZoneID       string `json:"zoneId"`
}

// DescribeKeyPairsInput finds key pairs.
type DescribeKeyPairsInput struct {
	RegionID           string   `json:"regionId,omitempty" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions). Give regionId or regionIds."`
	RegionIDs          []string `json:"regionIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Several regions at once, or [\"*\"] for every region describe_regions lists; instead of regionId."`
	KeyPairName        string   `json:"keyPairName,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Name filter; '*' matches any run of characters, e.g. 'web*' or '*prod*'. Case-sensitive. Without '*' it is an exact match."`
	KeyPairFingerPrint string   `json:"keyPairFingerPrint,omitempty" jsonschema:"maxLength=128" jsonschema_description:"Only the key pair with this MD5 fingerprint (colon-separated hex, as ssh-keygen -l -E md5 prints after 'MD5:')."`
	IncludePublicKey   bool     `json:"includePublicKey,omitempty" jsonschema_description:"Also return each key pair's public key."`
	IncludeInstances   bool     `json:"includeInstances,omitempty" jsonschema_description:"Also return which instances carry each key pair (instanceCount, instanceIds)."`
	InUse              *bool    `json:"inUse,omitempty" jsonschema_description:"false: only key pairs no instance carries (unused); true: only those some instance carries. Implies includeInstances."`
	PageNumber         int      `json:"pageNumber,omitempty" jsonschema:"minimum=1" jsonschema_description:"Page to return, from 1, of one region. Give pageNumber and pageSize for one API page; omit both for every match (as many as fit one result; see nextToken)."`
	PageSize           int      `json:"pageSize,omitempty" jsonschema:"minimum=1,maximum=50" jsonschema_description:"Key pairs per page, 1-50."`
	NextToken          string   `json:"nextToken,omitempty" jsonschema:"maxLength=1024" jsonschema_description:"The nextToken of a truncated result, to continue where it stopped; with the same other arguments."`
	ResourceGroupID    string   `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Only key pairs in this resource group."`
	Tags               []Tag    `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Only key pairs that carry all of these tags; a tag without a value matches any value."`
}

// DescribeKeyPairsOutput lists key pairs.
type DescribeKeyPairsOutput struct {
	TotalCount   int           `json:"totalCount" jsonschema_description:"Number of matching key pairs, all of them, also when this result holds only some."`
	KeyPairs     []KeyPair     `json:"keyPairs"`
	RegionErrors []RegionError `json:"regionErrors,omitempty" jsonschema_description:"Regions that could not be read; the others' key pairs are listed."`
	Truncated    bool          `json:"truncated,omitempty" jsonschema_description:"true: more key pairs match than fit one result; call again with nextToken, or narrow the question."`
	NextToken    string        `json:"nextToken,omitempty" jsonschema_description:"Pass it back, with the same other arguments, for the key pairs after these."`
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
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint of the public key."`
	CreationTime       string `json:"creationTime" jsonschema_description:"UTC, e.g. 2026-11-22T08:33Z."`
	ResourceGroupID    string `json:"resourceGroupId"`
	PublicKey          string `json:"publicKey,omitempty" jsonschema_description:"OpenSSH public key; only with includePublicKey."`
	Tags               []Tag  `json:"tags"`
	RegionID           string `json:"regionId"`
	// InstanceCount and InstanceIDs are set with includeInstances.
	InstanceCount *int     `json:"instanceCount,omitempty" jsonschema_description:"Number of instances that carry it; only with includeInstances or inUse."`
	InstanceIDs   []string `json:"instanceIds,omitempty" jsonschema_description:"The instances that carry it."`
}

// CreateKeyPairInput creates a key pair; the private key goes to a file.
type CreateKeyPairInput struct {
	RegionID        string `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions)."`
	KeyPairName     string `json:"keyPairName" jsonschema:"minLength=2,maxLength=128,pattern=^[A-Za-zÀ-￿][A-Za-z0-9À-￿:_-]*$" jsonschema_description:"2-128 characters: starts with a letter, then letters, digits, ':', '_' or '-'. Unique in the region. Also the private key file's name (<name>.<regionId>.pem)."`
	ResourceGroupID string `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Resource group to put the key pair in; default: the account's default group."`
	Tags            []Tag  `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Up to 20 tags; keys must be unique."`
}

// CreateKeyPairOutput says where the private key was written. The key
// itself never appears in a result.
type CreateKeyPairOutput struct {
	KeyPairID          string `json:"keyPairId"`
	KeyPairName        string `json:"keyPairName"`
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint of the public key."`
	PrivateKeyFile     string `json:"privateKeyFile" jsonschema_description:"Path of the private key file (mode 0600) on the machine running this server."`
	RequestID          string `json:"requestId"`
}

// ImportKeyPairInput imports an existing public key.
type ImportKeyPairInput struct {
	RegionID        string   `json:"regionId,omitempty" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions). Give regionId or regionIds."`
	RegionIDs       []string `json:"regionIds,omitempty" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"Import into several regions at once, or [\"*\"] for every region describe_regions lists; instead of regionId."`
	KeyPairName     string   `json:"keyPairName" jsonschema:"minLength=2,maxLength=128,pattern=^[A-Za-zÀ-￿][A-Za-z0-9À-￿:_.-]*$" jsonschema_description:"2-128 characters: starts with a letter, then letters, digits, ':', '_', '-' or '.'. Unique in the region."`
	PublicKeyBody   string   `json:"publicKeyBody" jsonschema:"minLength=1,maxLength=16384" jsonschema_description:"One OpenSSH public key line, '<type> <base64> [comment]' (the contents of a .pub file). Types: ssh-rsa, ssh-dss, ecdsa-sha2-nistp256/384/521; ssh-ed25519 is not supported by ECS. Never a private key."`
	ResourceGroupID string   `json:"resourceGroupId,omitempty" jsonschema:"maxLength=64" jsonschema_description:"Resource group to put the key pair in; default: the account's default group."`
	Tags            []Tag    `json:"tags,omitempty" jsonschema:"minItems=1,maxItems=20" jsonschema_description:"Up to 20 tags; keys must be unique."`
}

// ImportKeyPairOutput describes the imported key pair.
type ImportKeyPairOutput struct {
	KeyPairName        string `json:"keyPairName"`
	KeyPairFingerPrint string `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint of the public key; compare with ssh-keygen -l -E md5."`
	RequestID          string `json:"requestId" jsonschema_description:"The import's request ID; with regionIds, empty (each region has its own)."`
	// Regions are set with regionIds: one per region, in order.
	Regions []ImportRegionOutcome `json:"regions,omitempty" jsonschema_description:"With regionIds: what happened in each region."`
}

// ImportRegionOutcome is an import's fate in one region.
type ImportRegionOutcome struct {
	RegionID           string `json:"regionId"`
	Outcome            string `json:"outcome" jsonschema:"enum=imported,enum=exists,enum=failed" jsonschema_description:"imported; exists (a key pair of this name with the same public key was there already: nothing changed); failed (see code and message)."`
	KeyPairFingerPrint string `json:"keyPairFingerPrint,omitempty"`
	Code               string `json:"code,omitempty"`
	Message            string `json:"message,omitempty"`
	RequestID          string `json:"requestId,omitempty"`
}

// DeleteKeyPairsInput deletes key pairs; without confirm it only previews.
type DeleteKeyPairsInput struct {
	RegionID     string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions)."`
	KeyPairNames []string `json:"keyPairNames" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Names of the key pairs to delete (1-500; exact names, no wildcards)."`
	Confirm      bool     `json:"confirm,omitempty" jsonschema_description:"false or absent: change nothing and return a preview. true: delete, after the user's approval where the client can ask for it."`
}

// DeleteKeyPairsOutput reports, per key pair, what happened or would happen.
type DeleteKeyPairsOutput struct {
	Executed   bool            `json:"executed" jsonschema_description:"true when the deletion ran; false for a preview (nothing changed)."`
	KeyPairs   []DeleteOutcome `json:"keyPairs"`
	RequestIDs []string        `json:"requestIds,omitempty"`
}

// DeleteOutcome is one key pair's fate.
type DeleteOutcome struct {
	KeyPairName        string   `json:"keyPairName"`
	KeyPairFingerPrint string   `json:"keyPairFingerPrint,omitempty" jsonschema_description:"MD5 fingerprint, when the key pair exists."`
	Outcome            string   `json:"outcome" jsonschema:"enum=deleted,enum=would_delete,enum=not_found,enum=bound,enum=failed" jsonschema_description:"deleted; would_delete (preview); not_found (nothing to delete); bound (attached to instances, cannot be deleted: detach it first); failed (see code and message)."`
	BoundInstances     []string `json:"boundInstances,omitempty" jsonschema_description:"Instances that carry this key pair."`
	Code               string   `json:"code,omitempty"`
	Message            string   `json:"message,omitempty"`
}

// BindKeyPairInput attaches a key pair to instances, or detaches it.
type BindKeyPairInput struct {
	RegionID    string   `json:"regionId" jsonschema:"minLength=1,maxLength=64,pattern=^[a-z][a-z0-9]*(-[a-z0-9]+)+$" jsonschema_description:"Region ID, e.g. cn-hangzhou (see describe_regions)."`
	KeyPairName string   `json:"keyPairName" jsonschema:"minLength=2,maxLength=128" jsonschema_description:"The key pair's exact name."`
	InstanceIDs []string `json:"instanceIds" jsonschema:"minItems=1,maxItems=500" jsonschema_description:"Instance IDs (1-500), e.g. i-bp1...; see describe_instances."`
	Confirm     bool     `json:"confirm,omitempty" jsonschema_description:"false or absent: change nothing and return a preview. true: make the change, after the user's approval where the client can ask for it."`
}

// AttachKeyPairInput attaches a key pair to instances.
type AttachKeyPairInput = BindKeyPairInput

// DetachKeyPairInput detaches a key pair from instances.
type DetachKeyPairInput = BindKeyPairInput

// BindKeyPairOutput reports, per instance, what happened or would happen.
type BindKeyPairOutput struct {
	Executed           bool          `json:"executed" jsonschema_description:"true when the change ran; false for a preview (nothing changed)."`
	KeyPairName        string        `json:"keyPairName"`
	KeyPairFingerPrint string        `json:"keyPairFingerPrint" jsonschema_description:"MD5 fingerprint of the key pair."`
	Instances          []BindOutcome `json:"instances"`
	// RebootRequired lists Running instances whose change takes effect
	// after a reboot; TakesEffectOnStart lists Stopped ones.
	RebootRequired     []string `json:"rebootRequired" jsonschema_description:"Running instances: the change takes effect only after a reboot (RebootInstance)."`
	TakesEffectOnStart []string `json:"takesEffectOnStart" jsonschema_description:"Stopped instances: the change takes effect when the instance starts."`
	RequestIDs         []string `json:"requestIds,omitempty"`
}

// BindOutcome is one instance's fate.
type BindOutcome struct {
	InstanceID         string `json:"instanceId"`
	InstanceName       string `json:"instanceName,omitempty"`
	Status             string `json:"status,omitempty"`
	OSType             string `json:"osType,omitempty"`
	CurrentKeyPairName string `json:"currentKeyPairName,omitempty" jsonschema_description:"The key pair the instance carried before this call."`
	// ReplacedKeyPairName is set by an attach that replaced another key
	// pair on the instance.
	ReplacedKeyPairName string `json:"replacedKeyPairName,omitempty" jsonschema_description:"The key pair this attach replaced on the instance."`
	Outcome             string `json:"outcome" jsonschema:"enum=attached,enum=detached,enum=would_attach,enum=would_replace,enum=would_detach,enum=unchanged,enum=not_found,enum=failed,enum=would_fail" jsonschema_description:"What happened (attached, detached, unchanged, failed) or would happen (would_attach, would_replace: another key pair will be replaced, would_detach, would_fail); not_found: no such instance in the region."`
	Code                string `json:"code,omitempty"`
	Message             string `json:"message,omitempty"`
}
