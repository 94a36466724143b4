package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"

	"golang.org/x/crypto/ssh"
)

// Populate adds keyPairs key pairs and instances instances to region in one
// update, for benchmarks that need a full region without thousands of
// signed requests to build it. Key pairs are named bulk-0001, bulk-0002, ...
// (each with its own ECDSA key, so fingerprints are distinct); instances are
// Running Linux instances named bulk-0001, ... with IDs i-bulk000001, ...,
// carrying no key pair. Both are appended after what the region already
// holds, in that order, and the names and IDs are returned in it. Populate
// fails, changing nothing, when a name or ID is taken or the key pairs would
// exceed the region's quota.
func (e *Emulator) Populate(region string, keyPairs, instances int) (names, ids []string, err error) {
	if keyPairs < 0 || instances < 0 {
		return nil, nil, fmt.Errorf("emulator: populate: negative count")
	}
	kps := make([]KeyPair, keyPairs)
	for i := range kps {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		pub, err := ssh.NewPublicKey(&k.PublicKey)
		if err != nil {
			return nil, nil, err
		}
		kps[i] = KeyPair{
			RegionID:     region,
			KeyPairID:    "ssh-" + randomString(20, lowerAlnum),
			KeyPairName:  fmt.Sprintf("bulk-%04d", i+1),
			FingerPrint:  fingerprintMD5(pub),
			PublicKey:    authorizedKey(pub),
			CreationTime: e.now().UTC(),
		}
		names = append(names, kps[i].KeyPairName)
	}
	insts := make([]Instance, instances)
	created := creationTime(e.now())
	vpc, vsw := bulkNetworkID("vpc", region), bulkNetworkID("vsw", region+"-a")
	for i := range insts {
		n := i + 10 // private addresses from 10.0.0.10 on, one each
		insts[i] = Instance{
			InstanceID:       fmt.Sprintf("i-bulk%06d", i+1),
			InstanceName:     fmt.Sprintf("bulk-%04d", i+1),
			RegionID:         region,
			ZoneID:           region + "-a",
			Status:           "Running",
			OSType:           "linux",
			OSName:           "Alibaba Cloud Linux 3.2104 LTS 64 bit",
			InstanceType:     "ecs.g7.large",
			ImageID:          "aliyun_3_x64_20G_alibase_20250117.vhd",
			CPU:              2,
			Memory:           8192,
			CreationTime:     created,
			VpcID:            vpc,
			VSwitchID:        vsw,
			PrivateIPAddress: fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255),
		}
		ids = append(ids, insts[i].InstanceID)
	}
	err = e.store.update(func(s *State) error {
		if !slices.ContainsFunc(s.Regions, func(r Region) bool { return r.RegionID == region }) {
			return fmt.Errorf("emulator: populate: unknown region %q", region)
		}
		if n := countKeyPairs(s, region) + keyPairs; n > e.quota {
			return fmt.Errorf("emulator: populate: %d key pairs in %s would exceed the quota of %d", n, region, e.quota)
		}
		var resourceGroup string
		for _, g := range s.ResourceGroups {
			if g.Default {
				resourceGroup = g.ID
			}
		}
		for i := range insts {
			insts[i].ResourceGroupID = resourceGroup
		}
		for _, kp := range kps {
			if keyPairIndex(s, region, kp.KeyPairName) >= 0 {
				return fmt.Errorf("emulator: populate: key pair %q exists in %s", kp.KeyPairName, region)
			}
			kp.ResourceGroupID = resourceGroup
			s.KeyPairs = append(s.KeyPairs, kp)
		}
		taken := make(map[string]bool, len(s.Instances))
		for _, in := range s.Instances {
			taken[in.InstanceID] = true
		}
		for _, in := range insts {
			if taken[in.InstanceID] {
				return fmt.Errorf("emulator: populate: instance %q exists", in.InstanceID)
			}
			s.Instances = append(s.Instances, in)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return names, ids, nil
}

// bulkNetworkID is a VPC or vSwitch ID for populated instances: "vpc-" or
// "vsw-" and 20 characters derived from what it belongs to, so that every
// Populate of a region gives the same.
func bulkNetworkID(kind, of string) string {
	return kind + "-" + hashChars(sha256.Sum256([]byte(kind+":bulk:"+of)), 0, 20)
}
