package emulator

import "time"

// stateFormat is the version of the State layout. A state directory written
// with another version is refused rather than misread.
const stateFormat = 1

// State is everything the emulated cloud remembers. It is plain data so that
// a store can copy it, persist it as JSON, and hand tests a snapshot.
type State struct {
	Format         int             `json:"format"`
	Regions        []Region        `json:"regions"`
	ResourceGroups []ResourceGroup `json:"resourceGroups"`
	Instances      []Instance      `json:"instances"`
	// KeyPairs holds the key pairs of every region in creation order, which
	// is the order DescribeKeyPairs returns them in.
	KeyPairs []KeyPair `json:"keyPairs"`
}

// Region is one entry of DescribeRegions.
type Region struct {
	RegionID       string `json:"regionId"`
	LocalName      string `json:"localName"`
	RegionEndpoint string `json:"regionEndpoint"`
	Status         string `json:"status"`
}

// ResourceGroup is a resource group a key pair may be placed in. Exactly one
// is the account's default, used when a request names none.
type ResourceGroup struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default,omitempty"`
}

// Instance is an ECS instance: what key pairs and reboots touch, and what
// DescribeInstances shows of it. Every field past KeyPairName is optional
// (a seed or state written before it existed has none), and omitted when
// empty; DescribeInstances fills what is missing with documented defaults.
type Instance struct {
	InstanceID   string `json:"instanceId"`
	InstanceName string `json:"instanceName"`
	RegionID     string `json:"regionId"`
	ZoneID       string `json:"zoneId"`
	Status       string `json:"status"` // Pending, Running, Starting, Stopping, Stopped
	OSType       string `json:"osType"` // linux or windows
	OSName       string `json:"osName"`
	InstanceType string `json:"instanceType"`
	ImageID      string `json:"imageId"`
	KeyPairName  string `json:"keyPairName,omitempty"`

	// OSNameEn is the English OS name; empty means OSName.
	OSNameEn string `json:"osNameEn,omitempty"`
	// HostName empty means the default ECS gives: "iZ" + the ID's body + "Z"
	// (cut to 15 characters for Windows).
	HostName    string `json:"hostName,omitempty"`
	Description string `json:"description,omitempty"`
	// CPU (vCPUs) and Memory (MiB); zero means the instance type's, where
	// the emulator knows it.
	CPU    int `json:"cpu,omitempty"`
	Memory int `json:"memory,omitempty"`
	// CreationTime is UTC to the minute, yyyy-MM-ddTHH:mmZ, as the API shows it.
	CreationTime string `json:"creationTime,omitempty"`
	// StartTime is when the instance last started, in the same form; empty
	// means CreationTime.
	StartTime       string `json:"startTime,omitempty"`
	ResourceGroupID string `json:"resourceGroupId,omitempty"`
	// InstanceChargeType is PostPaid (the default) or PrePaid.
	InstanceChargeType string `json:"instanceChargeType,omitempty"`
	// Network: a VPC instance has a VPC, a vSwitch and a private address; a
	// public address is either assigned (PublicIPAddress) or an elastic IP.
	VpcID                   string   `json:"vpcId,omitempty"`
	VSwitchID               string   `json:"vSwitchId,omitempty"`
	PrivateIPAddress        string   `json:"privateIpAddress,omitempty"`
	PublicIPAddress         string   `json:"publicIpAddress,omitempty"`
	InternetMaxBandwidthOut int      `json:"internetMaxBandwidthOut,omitempty"`
	EIP                     *EIP     `json:"eip,omitempty"`
	SecurityGroupIDs        []string `json:"securityGroupIds,omitempty"`
	Tags                    []Tag    `json:"tags,omitempty"`

	// Reboot is set while the instance reboots; Status is then Stopping or
	// Starting as of the last write. Reads and writes see the status the
	// emulator's clock gives it now (see present and settleReboots).
	Reboot *Reboot `json:"reboot,omitempty"`
}

// EIP is an elastic IP address associated with an instance.
type EIP struct {
	AllocationID       string `json:"allocationId"`
	IPAddress          string `json:"ipAddress"`
	Bandwidth          int    `json:"bandwidth"`          // Mbit/s
	InternetChargeType string `json:"internetChargeType"` // PayByTraffic or PayByBandwidth
}

// clone returns a deep copy of the instance.
func (in Instance) clone() Instance {
	in.SecurityGroupIDs = append([]string(nil), in.SecurityGroupIDs...)
	in.Tags = append([]Tag(nil), in.Tags...)
	if in.EIP != nil {
		eip := *in.EIP
		in.EIP = &eip
	}
	if in.Reboot != nil {
		r := *in.Reboot
		in.Reboot = &r
	}
	return in
}

// KeyPair is a stored public key. The private key of a created key pair is
// returned once and never stored, as in the real service.
type KeyPair struct {
	RegionID        string    `json:"regionId"`
	KeyPairID       string    `json:"keyPairId"`
	KeyPairName     string    `json:"keyPairName"`
	FingerPrint     string    `json:"fingerPrint"`
	PublicKey       string    `json:"publicKey"`
	ResourceGroupID string    `json:"resourceGroupId"`
	CreationTime    time.Time `json:"creationTime"`
	Tags            []Tag     `json:"tags,omitempty"`
}

// Tag is a key pair tag. Value may be empty.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// clone returns a deep copy, so that a failed update can be thrown away and a
// snapshot handed out cannot alias the live state.
func (s *State) clone() *State {
	c := &State{
		Format:         s.Format,
		Regions:        append([]Region(nil), s.Regions...),
		ResourceGroups: append([]ResourceGroup(nil), s.ResourceGroups...),
		Instances:      make([]Instance, len(s.Instances)),
		KeyPairs:       make([]KeyPair, len(s.KeyPairs)),
	}
	for i, in := range s.Instances {
		c.Instances[i] = in.clone()
	}
	for i, kp := range s.KeyPairs {
		kp.Tags = append([]Tag(nil), kp.Tags...)
		c.KeyPairs[i] = kp
	}
	return c
}
