package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"time"
)

// Seed is the starting world of an emulator: regions, resource groups and
// instances. Key pairs are never seeded; they are what tests create.
type Seed struct {
	Regions        []Region        `json:"regions"`
	ResourceGroups []ResourceGroup `json:"resourceGroups"`
	Instances      []Instance      `json:"instances"`
}

// LoadSeed reads a seed file (testdata/seed.json in this repository).
func LoadSeed(path string) (*Seed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("emulator seed: %w", err)
	}
	defer f.Close()
	s, err := ParseSeed(f)
	if err != nil {
		return nil, fmt.Errorf("emulator seed %s: %w", path, err)
	}
	return s, nil
}

var (
	seedRegionID   = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	seedInstanceID = regexp.MustCompile(`^i-[a-z0-9]{10,}$`)
	seedStatus     = map[string]bool{"Pending": true, "Running": true, "Starting": true, "Stopping": true, "Stopped": true}
	seedOSType     = map[string]bool{"linux": true, "windows": true}
)

// ParseSeed decodes and checks a seed. Unknown fields are refused so that a
// typo in a seed file is found at once rather than silently ignored.
func ParseSeed(r io.Reader) (*Seed, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Seed) check() error {
	if len(s.Regions) == 0 {
		return fmt.Errorf("no regions")
	}
	regions := map[string]bool{}
	for _, r := range s.Regions {
		if !seedRegionID.MatchString(r.RegionID) {
			return fmt.Errorf("region %q: malformed region ID", r.RegionID)
		}
		if regions[r.RegionID] {
			return fmt.Errorf("region %q: listed twice", r.RegionID)
		}
		regions[r.RegionID] = true
	}
	defaults := 0
	for _, g := range s.ResourceGroups {
		if g.Default {
			defaults++
		}
	}
	if defaults != 1 {
		return fmt.Errorf("resource groups: want exactly one default, have %d", defaults)
	}
	ids := map[string]bool{}
	for _, in := range s.Instances {
		switch {
		case !seedInstanceID.MatchString(in.InstanceID):
			return fmt.Errorf("instance %q: malformed instance ID", in.InstanceID)
		case ids[in.InstanceID]:
			return fmt.Errorf("instance %q: listed twice", in.InstanceID)
		case !regions[in.RegionID]:
			return fmt.Errorf("instance %q: unknown region %q", in.InstanceID, in.RegionID)
		case !seedStatus[in.Status]:
			return fmt.Errorf("instance %q: unknown status %q", in.InstanceID, in.Status)
		case !seedOSType[in.OSType]:
			return fmt.Errorf("instance %q: unknown OS type %q", in.InstanceID, in.OSType)
		case in.KeyPairName != "":
			return fmt.Errorf("instance %q: seeded instances carry no key pair", in.InstanceID)
		case in.Reboot != nil:
			return fmt.Errorf("instance %q: seeded instances are not rebooting", in.InstanceID)
		}
		if err := checkSeedInstanceDetails(in, s.ResourceGroups); err != nil {
			return fmt.Errorf("instance %q: %w", in.InstanceID, err)
		}
		ids[in.InstanceID] = true
	}
	return nil
}

// checkSeedInstanceDetails checks the optional fields DescribeInstances
// shows, so that a typo fails the seed rather than an answer.
func checkSeedInstanceDetails(in Instance, groups []ResourceGroup) error {
	for name, ip := range map[string]string{"privateIpAddress": in.PrivateIPAddress, "publicIpAddress": in.PublicIPAddress} {
		if ip != "" {
			if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
				return fmt.Errorf("%s %q is not an IPv4 address", name, ip)
			}
		}
	}
	if in.EIP != nil {
		if a, err := netip.ParseAddr(in.EIP.IPAddress); err != nil || !a.Is4() {
			return fmt.Errorf("eip.ipAddress %q is not an IPv4 address", in.EIP.IPAddress)
		}
		if in.EIP.AllocationID == "" {
			return fmt.Errorf("eip.allocationId is empty")
		}
		if in.PublicIPAddress != "" {
			return fmt.Errorf("has both a publicIpAddress and an eip; ECS gives one or the other")
		}
	}
	if in.VSwitchID != "" && in.VpcID == "" {
		return fmt.Errorf("vSwitchId %q without a vpcId", in.VSwitchID)
	}
	for name, ts := range map[string]string{"creationTime": in.CreationTime, "startTime": in.StartTime} {
		if ts != "" {
			if _, err := time.Parse(creationTimeLayout, ts); err != nil {
				return fmt.Errorf("%s %q is not UTC yyyy-MM-ddTHH:mmZ", name, ts)
			}
		}
	}
	if c := in.InstanceChargeType; c != "" && c != "PostPaid" && c != "PrePaid" {
		return fmt.Errorf("instanceChargeType %q is not PostPaid or PrePaid", c)
	}
	if in.CPU < 0 || in.Memory < 0 || in.InternetMaxBandwidthOut < 0 {
		return fmt.Errorf("cpu, memory and internetMaxBandwidthOut must not be negative")
	}
	if g := in.ResourceGroupID; g != "" && !slices.ContainsFunc(groups, func(rg ResourceGroup) bool { return rg.ID == g }) {
		return fmt.Errorf("unknown resource group %q", g)
	}
	seen := map[string]bool{}
	for n, t := range in.Tags {
		if t.Key == "" {
			return fmt.Errorf("tag %d has no key", n+1)
		}
		if err := checkTag(n+1, t.Key, t.Value); err != nil {
			return fmt.Errorf("tag %d: %s", n+1, err.Message)
		}
		if seen[t.Key] {
			return fmt.Errorf("tag key %q twice", t.Key)
		}
		seen[t.Key] = true
	}
	if len(in.Tags) > maxTags {
		return fmt.Errorf("%d tags; at most %d", len(in.Tags), maxTags)
	}
	return nil
}

// state returns the initial State for this seed.
func (s *Seed) state() *State {
	st := &State{
		Format:         stateFormat,
		Regions:        s.Regions,
		ResourceGroups: s.ResourceGroups,
		Instances:      s.Instances,
	}
	return st.clone()
}
