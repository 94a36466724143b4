package emulator

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// instanceItem is one entry of DescribeInstances' Instances.Instance[]. It
// holds every field of the SDKs' response models (alibaba-cloud-sdk-go's
// ecs.Instance and the generated SDK's
// DescribeInstancesResponseBodyInstancesInstance), none omitted: clients
// read nested fields without checking they exist (the Terraform provider
// panics on a missing PublicIpAddress, EipAddress, InnerIpAddress or
// VpcAttributes.PrivateIpAddress). Lists are empty rather than null.
type instanceItem struct {
	InstanceID                      string  `json:"InstanceId"`
	InstanceName                    string  `json:"InstanceName"`
	Description                     string  `json:"Description"`
	RegionID                        string  `json:"RegionId"`
	ZoneID                          string  `json:"ZoneId"`
	Status                          string  `json:"Status"`
	OSType                          string  `json:"OSType"`
	OsType                          string  `json:"OsType"`
	OSName                          string  `json:"OSName"`
	OSNameEn                        string  `json:"OSNameEn"`
	OsVersion                       string  `json:"OsVersion"`
	InstanceType                    string  `json:"InstanceType"`
	InstanceTypeFamily              string  `json:"InstanceTypeFamily"`
	ImageID                         string  `json:"ImageId"`
	KeyPairName                     string  `json:"KeyPairName"`
	HostName                        string  `json:"HostName"`
	Hostname                        string  `json:"Hostname"`
	Cpu                             int     `json:"Cpu"`
	CPU                             int     `json:"CPU"`
	Memory                          int     `json:"Memory"`
	GPUAmount                       int     `json:"GPUAmount"`
	GPUSpec                         string  `json:"GPUSpec"`
	LocalStorageAmount              int     `json:"LocalStorageAmount"`
	LocalStorageCapacity            int64   `json:"LocalStorageCapacity"`
	CreationTime                    string  `json:"CreationTime"`
	StartTime                       string  `json:"StartTime"`
	ExpiredTime                     string  `json:"ExpiredTime"`
	AutoReleaseTime                 string  `json:"AutoReleaseTime"`
	InstanceChargeType              string  `json:"InstanceChargeType"`
	InternetChargeType              string  `json:"InternetChargeType"`
	InternetMaxBandwidthIn          int     `json:"InternetMaxBandwidthIn"`
	InternetMaxBandwidthOut         int     `json:"InternetMaxBandwidthOut"`
	SaleCycle                       string  `json:"SaleCycle"`
	StoppedMode                     string  `json:"StoppedMode"`
	SpotStrategy                    string  `json:"SpotStrategy"`
	SpotPriceLimit                  float64 `json:"SpotPriceLimit"`
	SpotDuration                    int     `json:"SpotDuration"`
	SpotInterruptionBehavior        string  `json:"SpotInterruptionBehavior"`
	IsSpot                          bool    `json:"IsSpot"`
	ResourceGroupID                 string  `json:"ResourceGroupId"`
	SerialNumber                    string  `json:"SerialNumber"`
	NetworkType                     string  `json:"NetworkType"`
	InstanceNetworkType             string  `json:"InstanceNetworkType"`
	IntranetIP                      string  `json:"IntranetIp"`
	InternetIP                      string  `json:"InternetIp"`
	IoOptimized                     bool    `json:"IoOptimized"`
	DeviceAvailable                 bool    `json:"DeviceAvailable"`
	DeletionProtection              bool    `json:"DeletionProtection"`
	Recyclable                      bool    `json:"Recyclable"`
	EnableNVS                       bool    `json:"EnableNVS"`
	CreditSpecification             string  `json:"CreditSpecification"`
	DeploymentSetID                 string  `json:"DeploymentSetId"`
	DeploymentSetGroupNo            int     `json:"DeploymentSetGroupNo"`
	HpcClusterID                    string  `json:"HpcClusterId"`
	ClusterID                       string  `json:"ClusterId"`
	VlanID                          string  `json:"VlanId"`
	ISP                             string  `json:"ISP"`
	PrivatePoolOptionsID            string  `json:"PrivatePoolOptionsId"`
	PrivatePoolOptionsMatchCriteria string  `json:"PrivatePoolOptionsMatchCriteria"`
	SocketID                        string  `json:"SocketId"`
	// Fields of the SDK's shared Instance struct that belong to managed
	// (Cloud Assistant) instances: empty for ECS instances.
	InstanceOwnerID  int64  `json:"InstanceOwnerId"`
	RegistrationTime string `json:"RegistrationTime"`
	MachineID        string `json:"MachineId"`
	ActivationID     string `json:"ActivationId"`
	AgentVersion     string `json:"AgentVersion"`
	Connected        bool   `json:"Connected"`
	LastInvokedTime  string `json:"LastInvokedTime"`
	InvocationCount  int64  `json:"InvocationCount"`

	PublicIPAddress            ipAddressList              `json:"PublicIpAddress"`
	InnerIPAddress             ipAddressList              `json:"InnerIpAddress"`
	RdmaIPAddress              ipAddressList              `json:"RdmaIpAddress"`
	EipAddress                 eipAddressItem             `json:"EipAddress"`
	VpcAttributes              vpcAttributesItem          `json:"VpcAttributes"`
	SecurityGroupIDs           securityGroupIDList        `json:"SecurityGroupIds"`
	Tags                       instanceTags               `json:"Tags"`
	OperationLocks             operationLocks             `json:"OperationLocks"`
	NetworkInterfaces          networkInterfaces          `json:"NetworkInterfaces"`
	DedicatedHostAttribute     dedicatedHostAttribute     `json:"DedicatedHostAttribute"`
	DedicatedInstanceAttribute dedicatedInstanceAttribute `json:"DedicatedInstanceAttribute"`
	EcsCapacityReservationAttr capacityReservationAttr    `json:"EcsCapacityReservationAttr"`
	CPUOptions                 cpuOptions                 `json:"CpuOptions"`
	HibernationOptions         hibernationOptions         `json:"HibernationOptions"`
	PrivateDNSNameOptions      privateDNSNameOptions      `json:"PrivateDnsNameOptions"`
	AdditionalInfo             additionalInfo             `json:"AdditionalInfo"`
	ImageOptions               imageOptions               `json:"ImageOptions"`
	MetadataOptions            metadataOptions            `json:"MetadataOptions"`
	ClockOptions               clockOptions               `json:"ClockOptions"`
}

type ipAddressList struct {
	IPAddress []string `json:"IpAddress"`
}

type eipAddressItem struct {
	AllocationID         string `json:"AllocationId"`
	IPAddress            string `json:"IpAddress"`
	Bandwidth            int    `json:"Bandwidth"`
	InternetChargeType   string `json:"InternetChargeType"`
	IsSupportUnassociate bool   `json:"IsSupportUnassociate"`
}

type vpcAttributesItem struct {
	VpcID            string        `json:"VpcId"`
	VSwitchID        string        `json:"VSwitchId"`
	NatIPAddress     string        `json:"NatIpAddress"`
	PrivateIPAddress ipAddressList `json:"PrivateIpAddress"`
}

type securityGroupIDList struct {
	SecurityGroupID []string `json:"SecurityGroupId"`
}

type instanceTags struct {
	Tag []tagItem `json:"Tag"`
}

type operationLocks struct {
	LockReason []lockReason `json:"LockReason"`
}

type lockReason struct {
	LockReason string `json:"LockReason"`
	LockMsg    string `json:"LockMsg"`
}

type networkInterfaces struct {
	NetworkInterface []networkInterface `json:"NetworkInterface"`
}

// networkInterface carries the DescribeInstances fields of an ENI and those
// the classic SDK's shared NetworkInterface struct adds.
type networkInterface struct {
	NetworkInterfaceID          string              `json:"NetworkInterfaceId"`
	NetworkInterfaceName        string              `json:"NetworkInterfaceName"`
	Description                 string              `json:"Description"`
	Type                        string              `json:"Type"`
	MacAddress                  string              `json:"MacAddress"`
	PrimaryIPAddress            string              `json:"PrimaryIpAddress"`
	VSwitchID                   string              `json:"VSwitchId"`
	SecurityGroupID             string              `json:"SecurityGroupId"`
	SecurityGroupIDs            securityGroupIDList `json:"SecurityGroupIds"`
	InstanceType                string              `json:"InstanceType"`
	DeleteOnRelease             bool                `json:"DeleteOnRelease"`
	NetworkInterfaceTrafficMode string              `json:"NetworkInterfaceTrafficMode"`
	PrivateIPSets               privateIPSets       `json:"PrivateIpSets"`
	Ipv6Sets                    ipv6Sets            `json:"Ipv6Sets"`
	Ipv4PrefixSets              ipv4PrefixSets      `json:"Ipv4PrefixSets"`
	Ipv6PrefixSets              ipv6PrefixSets      `json:"Ipv6PrefixSets"`
}

type privateIPSets struct {
	PrivateIPSet []privateIPSet `json:"PrivateIpSet"`
}

type privateIPSet struct {
	PrivateIPAddress   string             `json:"PrivateIpAddress"`
	PrivateDNSName     string             `json:"PrivateDnsName"`
	Primary            bool               `json:"Primary"`
	AssociatedPublicIP associatedPublicIP `json:"AssociatedPublicIp"`
}

type associatedPublicIP struct {
	PublicIPAddress string `json:"PublicIpAddress"`
	AllocationID    string `json:"AllocationId"`
}

type ipv6Sets struct {
	Ipv6Set []struct {
		Ipv6Address string `json:"Ipv6Address"`
	} `json:"Ipv6Set"`
}

type ipv4PrefixSets struct {
	Ipv4PrefixSet []struct {
		Ipv4Prefix string `json:"Ipv4Prefix"`
	} `json:"Ipv4PrefixSet"`
}

type ipv6PrefixSets struct {
	Ipv6PrefixSet []struct {
		Ipv6Prefix string `json:"Ipv6Prefix"`
	} `json:"Ipv6PrefixSet"`
}

type dedicatedHostAttribute struct {
	DedicatedHostID        string `json:"DedicatedHostId"`
	DedicatedHostName      string `json:"DedicatedHostName"`
	DedicatedHostClusterID string `json:"DedicatedHostClusterId"`
}

type dedicatedInstanceAttribute struct {
	Affinity string `json:"Affinity"`
	Tenancy  string `json:"Tenancy"`
}

type capacityReservationAttr struct {
	CapacityReservationID         string `json:"CapacityReservationId"`
	CapacityReservationPreference string `json:"CapacityReservationPreference"`
}

type cpuOptions struct {
	CoreCount                int    `json:"CoreCount"`
	Core                     int    `json:"Core"`
	ThreadsPerCore           int    `json:"ThreadsPerCore"`
	CoreFactor               int    `json:"CoreFactor"`
	HyperThreadingAdjustable bool   `json:"HyperThreadingAdjustable"`
	Numa                     string `json:"Numa"`
	TopologyType             string `json:"TopologyType"`
	TurboMode                string `json:"TurboMode"`
	EnableVISST              bool   `json:"EnableVISST"`
	EnableVRDT               bool   `json:"EnableVRDT"`
	SupportedTopologyTypes   struct {
		SupportedTopologyType []string `json:"SupportedTopologyType"`
	} `json:"SupportedTopologyTypes"`
}

type hibernationOptions struct {
	Configured bool `json:"Configured"`
}

type privateDNSNameOptions struct {
	HostnameType                  string `json:"HostnameType"`
	EnableInstanceIDDNSARecord    bool   `json:"EnableInstanceIdDnsARecord"`
	EnableInstanceIDDNSAAAARecord bool   `json:"EnableInstanceIdDnsAAAARecord"`
	EnableIPDNSARecord            bool   `json:"EnableIpDnsARecord"`
	EnableIPDNSPtrRecord          bool   `json:"EnableIpDnsPtrRecord"`
}

type additionalInfo struct {
	EnableHighDensityMode bool `json:"EnableHighDensityMode"`
}

type imageOptions struct {
	ImageName              string `json:"ImageName"`
	ImageFamily            string `json:"ImageFamily"`
	Description            string `json:"Description"`
	LoginAsNonRoot         bool   `json:"LoginAsNonRoot"`
	CurrentOSNVMeSupported bool   `json:"CurrentOSNVMeSupported"`
	ImageFeatures          struct {
		NvmeSupport string `json:"NvmeSupport"`
	} `json:"ImageFeatures"`
	ImageTags struct {
		ImageTag []tagItem `json:"ImageTag"`
	} `json:"ImageTags"`
}

type metadataOptions struct {
	HTTPEndpoint            string `json:"HttpEndpoint"`
	HTTPTokens              string `json:"HttpTokens"`
	HTTPPutResponseHopLimit int    `json:"HttpPutResponseHopLimit"`
}

type clockOptions struct {
	PtpStatus string `json:"PtpStatus"`
}

// instanceTypeSpecs are the vCPUs and memory (MiB) of the instance types the
// seed and Populate use, from the ECS instance family tables; an instance
// whose seed gives neither gets these.
var instanceTypeSpecs = map[string][2]int{
	"ecs.g7.large":      {2, 8192},
	"ecs.g7.xlarge":     {4, 16384},
	"ecs.g8i.large":     {2, 8192},
	"ecs.g8i.xlarge":    {4, 16384},
	"ecs.r7.large":      {2, 16384},
	"ecs.r7.xlarge":     {4, 32768},
	"ecs.r7.2xlarge":    {8, 65536},
	"ecs.r8i.large":     {2, 16384},
	"ecs.c7.xlarge":     {4, 8192},
	"ecs.c7.2xlarge":    {8, 16384},
	"ecs.c8i.2xlarge":   {8, 16384},
	"ecs.u1-c1m2.large": {2, 4096},
}

// defaultCreationTime is the CreationTime of an instance whose seed gives
// none: fixed, so that answers are the same on every run.
const defaultCreationTime = "2025-01-20T08:00Z"

// postPaidExpiredTime is the ExpiredTime the API shows for pay-as-you-go
// instances, which never expire.
const postPaidExpiredTime = "2099-12-31T15:59Z"

// renderInstance builds the DescribeInstances entry of in, whose Status is
// the one to show. Every value comes from the instance or is derived from it
// deterministically, so the same state always gives the same answer.
func renderInstance(in Instance) instanceItem {
	cpu, mem := in.CPU, in.Memory
	if spec, ok := instanceTypeSpecs[in.InstanceType]; ok {
		if cpu == 0 {
			cpu = spec[0]
		}
		if mem == 0 {
			mem = spec[1]
		}
	}
	created := in.CreationTime
	if created == "" {
		created = defaultCreationTime
	}
	started := in.StartTime
	if started == "" {
		started = created
	}
	charge := in.InstanceChargeType
	if charge == "" {
		charge = "PostPaid"
	}
	expires := postPaidExpiredTime
	if charge == "PrePaid" {
		expires = "" // a seed has no subscription term to end
	}
	osNameEn := in.OSNameEn
	if osNameEn == "" {
		osNameEn = in.OSName
	}
	host := in.HostName
	if host == "" {
		host = defaultHostName(in)
	}
	stoppedMode := "Not-applicable"
	if in.Status == "Stopped" {
		stoppedMode = "KeepCharging"
	}
	network := "classic"
	if in.VpcID != "" {
		network = "vpc"
	}
	internetCharge := ""
	bandwidthIn := 0
	if in.PublicIPAddress != "" || in.EIP != nil {
		internetCharge, bandwidthIn = "PayByTraffic", 100
	}
	sgs := nonNil(in.SecurityGroupIDs)
	firstSG := ""
	if len(sgs) > 0 {
		firstSG = sgs[0]
	}

	item := instanceItem{
		InstanceID:               in.InstanceID,
		InstanceName:             in.InstanceName,
		Description:              in.Description,
		RegionID:                 in.RegionID,
		ZoneID:                   in.ZoneID,
		Status:                   in.Status,
		OSType:                   in.OSType,
		OsType:                   in.OSType,
		OSName:                   in.OSName,
		OSNameEn:                 osNameEn,
		InstanceType:             in.InstanceType,
		InstanceTypeFamily:       instanceTypeFamily(in.InstanceType),
		ImageID:                  in.ImageID,
		KeyPairName:              in.KeyPairName,
		HostName:                 host,
		Hostname:                 host,
		Cpu:                      cpu,
		CPU:                      cpu,
		Memory:                   mem,
		CreationTime:             created,
		StartTime:                started,
		ExpiredTime:              expires,
		InstanceChargeType:       charge,
		InternetChargeType:       internetCharge,
		InternetMaxBandwidthIn:   bandwidthIn,
		InternetMaxBandwidthOut:  in.InternetMaxBandwidthOut,
		StoppedMode:              stoppedMode,
		SpotStrategy:             "NoSpot",
		SpotInterruptionBehavior: "Terminate",
		ResourceGroupID:          in.ResourceGroupID,
		SerialNumber:             derivedUUID("serial", in.InstanceID),
		NetworkType:              network,
		InstanceNetworkType:      network,
		IntranetIP:               in.PrivateIPAddress,
		InternetIP:               in.PublicIPAddress,
		IoOptimized:              true,
		DeviceAvailable:          true,

		PublicIPAddress:            ipAddressList{IPAddress: []string{}},
		InnerIPAddress:             ipAddressList{IPAddress: []string{}},
		RdmaIPAddress:              ipAddressList{IPAddress: []string{}},
		VpcAttributes:              vpcAttributesItem{VpcID: in.VpcID, VSwitchID: in.VSwitchID, PrivateIPAddress: ipAddressList{IPAddress: []string{}}},
		SecurityGroupIDs:           securityGroupIDList{SecurityGroupID: sgs},
		Tags:                       instanceTags{Tag: tagItems(in.Tags)},
		OperationLocks:             operationLocks{LockReason: []lockReason{}},
		NetworkInterfaces:          networkInterfaces{NetworkInterface: []networkInterface{}},
		DedicatedInstanceAttribute: dedicatedInstanceAttribute{Affinity: "default", Tenancy: "default"},
		EcsCapacityReservationAttr: capacityReservationAttr{CapacityReservationPreference: "open"},
		CPUOptions:                 cpuOptionsFor(cpu),
		PrivateDNSNameOptions:      privateDNSNameOptions{HostnameType: "Custom"},
		ImageOptions:               defaultImageOptions(),
		MetadataOptions:            metadataOptions{HTTPEndpoint: "enabled", HTTPTokens: "optional", HTTPPutResponseHopLimit: 1},
	}
	if in.PublicIPAddress != "" {
		item.PublicIPAddress.IPAddress = []string{in.PublicIPAddress}
	}
	if in.EIP != nil {
		item.EipAddress = eipAddressItem{
			AllocationID:         in.EIP.AllocationID,
			IPAddress:            in.EIP.IPAddress,
			Bandwidth:            in.EIP.Bandwidth,
			InternetChargeType:   in.EIP.InternetChargeType,
			IsSupportUnassociate: true,
		}
	}
	if in.PrivateIPAddress != "" {
		// A VPC instance's private address is under VpcAttributes; a classic
		// network instance's is its inner address.
		if network == "vpc" {
			item.VpcAttributes.PrivateIPAddress.IPAddress = []string{in.PrivateIPAddress}
		} else {
			item.InnerIPAddress.IPAddress = []string{in.PrivateIPAddress}
		}
	}
	if network == "vpc" {
		item.NetworkInterfaces.NetworkInterface = []networkInterface{primaryENI(in, sgs, firstSG)}
	}
	return item
}

// primaryENI is the primary network interface of a VPC instance, with an ID
// and a MAC address derived from the instance ID (00:16:3e is the OUI of
// the MAC addresses ECS assigns).
func primaryENI(in Instance, sgs []string, firstSG string) networkInterface {
	h := sha256.Sum256([]byte("eni:" + in.InstanceID))
	eni := networkInterface{
		NetworkInterfaceID:          "eni-" + idBody(in.InstanceID, h),
		Type:                        "Primary",
		MacAddress:                  fmt.Sprintf("00:16:3e:%02x:%02x:%02x", h[0], h[1], h[2]),
		PrimaryIPAddress:            in.PrivateIPAddress,
		VSwitchID:                   in.VSwitchID,
		SecurityGroupID:             firstSG,
		SecurityGroupIDs:            securityGroupIDList{SecurityGroupID: sgs},
		NetworkInterfaceTrafficMode: "Standard",
		PrivateIPSets:               privateIPSets{PrivateIPSet: []privateIPSet{}},
	}
	eni.Ipv6Sets.Ipv6Set = []struct {
		Ipv6Address string `json:"Ipv6Address"`
	}{}
	eni.Ipv4PrefixSets.Ipv4PrefixSet = []struct {
		Ipv4Prefix string `json:"Ipv4Prefix"`
	}{}
	eni.Ipv6PrefixSets.Ipv6PrefixSet = []struct {
		Ipv6Prefix string `json:"Ipv6Prefix"`
	}{}
	if in.PrivateIPAddress != "" {
		set := privateIPSet{PrivateIPAddress: in.PrivateIPAddress, Primary: true}
		if in.EIP != nil {
			set.AssociatedPublicIP = associatedPublicIP{PublicIPAddress: in.EIP.IPAddress, AllocationID: in.EIP.AllocationID}
		} else if in.PublicIPAddress != "" {
			set.AssociatedPublicIP.PublicIPAddress = in.PublicIPAddress
		}
		eni.PrivateIPSets.PrivateIPSet = []privateIPSet{set}
	}
	return eni
}

// idBody returns an ID body as long as the instance's, keeping its region
// prefix (the three characters after "i-") and filling the rest from h.
func idBody(instanceID string, h [32]byte) string {
	body := strings.TrimPrefix(instanceID, "i-")
	prefix := body[:min(3, len(body))]
	return prefix + hashChars(h, len(prefix), max(len(body), 20))
}

// defaultHostName is the host name ECS gives an instance by default:
// "iZ" + the ID without "i-" + "Z"; Windows allows 15 characters.
func defaultHostName(in Instance) string {
	name := "iZ" + strings.TrimPrefix(in.InstanceID, "i-") + "Z"
	if in.OSType == "windows" && len(name) > 15 {
		name = name[:15]
	}
	return name
}

// instanceTypeFamily is the family of an instance type: "ecs.g7.large" is
// in "ecs.g7".
func instanceTypeFamily(t string) string {
	if i := strings.LastIndexByte(t, '.'); i > 0 {
		return t[:i]
	}
	return t
}

func cpuOptionsFor(cpu int) cpuOptions {
	o := cpuOptions{CoreCount: cpu, Core: cpu, ThreadsPerCore: 1}
	if cpu >= 2 {
		// The g7/r7/c7 families run two threads per core.
		o.CoreCount, o.Core, o.ThreadsPerCore = cpu/2, cpu/2, 2
	}
	o.SupportedTopologyTypes.SupportedTopologyType = []string{}
	return o
}

func defaultImageOptions() imageOptions {
	o := imageOptions{CurrentOSNVMeSupported: true}
	o.ImageFeatures.NvmeSupport = "supported"
	o.ImageTags.ImageTag = []tagItem{}
	return o
}

// derivedUUID is a UUID-shaped value derived from an instance ID, for
// fields such as SerialNumber that must be stable across answers.
func derivedUUID(kind, id string) string {
	h := sha256.Sum256([]byte(kind + ":" + id))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// nonNil copies s, as an empty list rather than null when s is empty.
func nonNil(s []string) []string {
	if len(s) == 0 {
		return []string{}
	}
	return append([]string(nil), s...)
}
