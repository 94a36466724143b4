package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// The whole jobs: a rotation, the unused key pairs of a busy region, and
// the two questions asked of every region at once.

const (
	rotatedKey   = "bench-rotated" // the rotation's new key pair
	laptopKey    = "laptop"        // the key searched for, and imported, everywhere
	unusedKeys   = 500             // key pairs of the inUse: false world
	unusedInsts  = 1000            // and its instances
	boundKeys    = 100             // key pairs bound there, each to boundEach instances
	boundEach    = 5
	regionKeys   = 50 // key pairs in every region of the many-region worlds
	carriedBatch = 50 // AttachKeyPair's InstanceIds maximum
)

// publicKey is an OpenSSH public key line and its MD5 fingerprint, as
// ssh-keygen -l -E md5 prints it.
type publicKey struct{ line, fingerprint string }

// benchKey is the key the jobs import: a fresh ECDSA P-256 key, which ECS
// accepts.
var benchKey = func() publicKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return publicKey{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " bench@127.0.0.1", ssh.FingerprintLegacyMD5(pub)}
}()

// everyRegion fills every seeded region with regionKeys key pairs.
func everyRegion(regions []string) []fill {
	fills := make([]fill, len(regions))
	for i, r := range regions {
		fills[i] = fill{r, regionKeys, 0}
	}
	return fills
}

// laptopRegions are the regions that hold the laptop key in the
// fingerprint search: the first, a middle and the last seeded region.
func laptopRegions(w *world) []string {
	return []string{w.regions[0], w.regions[len(w.regions)/2], w.regions[len(w.regions)-1]}
}

// afterDescribeRegions is the warm call of the many-region jobs: the
// region list read (and cached) by an earlier call.
func afterDescribeRegions(*world) (string, map[string]any) {
	return "describe_regions", map[string]any{}
}

func attachAll(ctx context.Context, c *cloud.Client, name string, ids []string) error {
	results, _, err := c.AttachKeyPair(ctx, region, name, ids)
	if err != nil {
		return err
	}
	for _, r := range results {
		if !r.Success {
			return fmt.Errorf("attach %s to %s: %s %s", name, r.InstanceID, r.Code, r.Message)
		}
	}
	return nil
}

var jobs = []scenario{
	{
		// The instances carry the old key pair (attached before the
		// latency is added); the new one is imported; nothing is rebooted.
		name: "rotate_key_pair, 200 instances, import, deleteOld, confirm", target: 6,
		fills: func([]string) []fill { return []fill{{region, 100, instances}} },
		setup: func(ctx context.Context, w *world, c *cloud.Client) error {
			return attachAll(ctx, c, w.keyPairs[0], w.instances)
		},
		tool: "rotate_key_pair",
		args: func(w *world) map[string]any {
			return map[string]any{"regionId": region, "fromKeyPairName": w.keyPairs[0], "toKeyPairName": rotatedKey,
				"publicKeyBody": benchKey.line, "deleteOld": true, "confirm": true}
		},
		sequential: func(ctx context.Context, w *world) error {
			from := w.keyPairs[0]
			for i, name := range []string{from, rotatedKey} {
				found, err := w.cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: region, KeyPairName: name, PageNumber: 1, PageSize: 50})
				if err != nil {
					return err
				}
				if want := 1 - i; found.TotalCount != want {
					return fmt.Errorf("key pair %s: %d found, want %d", name, found.TotalCount, want)
				}
			}
			carriers, err := sequentialInstances(ctx, w, schema.DescribeInstancesInput{RegionID: region, KeyPairName: from})
			if err != nil {
				return err
			}
			var ids []string
			for _, in := range carriers {
				ids = append(ids, in.InstanceID)
			}
			if _, err := w.cloud.ImportKeyPair(ctx, schema.ImportKeyPairInput{RegionID: region, KeyPairName: rotatedKey, PublicKeyBody: benchKey.line}); err != nil {
				return err
			}
			for batch := range chunks(ids, carriedBatch) {
				if err := attachAll(ctx, w.cloud, rotatedKey, batch); err != nil {
					return err
				}
			}
			still, err := sequentialInstances(ctx, w, schema.DescribeInstancesInput{RegionID: region, KeyPairName: from})
			if err != nil {
				return err
			}
			if len(still) > 0 {
				return fmt.Errorf("%d instances still carry %s", len(still), from)
			}
			batches, err := w.cloud.DeleteKeyPairs(ctx, region, []string{from})
			if err == nil {
				err = batches[0].Err
			}
			return err
		},
		check: func(w *world, outs []map[string]any) error {
			snap, err := w.emu.Snapshot()
			if err != nil {
				return err
			}
			keys := map[string]string{}
			for _, k := range snap.KeyPairs {
				if k.RegionID == region {
					keys[k.KeyPairName] = k.FingerPrint
				}
			}
			if _, ok := keys[w.keyPairs[0]]; ok {
				return fmt.Errorf("the old key pair %s is still there", w.keyPairs[0])
			}
			if fp := keys[rotatedKey]; !strings.EqualFold(fp, benchKey.fingerprint) {
				return fmt.Errorf("the new key pair has fingerprint %q, want %s", fp, benchKey.fingerprint)
			}
			carry := map[string]string{}
			for _, in := range snap.Instances {
				carry[in.InstanceID] = in.KeyPairName
			}
			for _, id := range w.instances {
				if carry[id] != rotatedKey {
					return fmt.Errorf("%s carries %q, want %s", id, carry[id], rotatedKey)
				}
			}
			if outs != nil {
				steps, _ := outs[0]["steps"].([]any)
				if got := stepOutcomes(steps); got != fmt.Sprintf("new_key: imported 1; attach: attached %d; delete_old: deleted 1", instances) {
					return fmt.Errorf("steps: %s", got)
				}
			}
			return nil
		},
	},
	unusedScenario(false),
	unusedScenario(true),
	{
		// The laptop key is in three of the regions; DescribeRegions is
		// part of the cold call.
		name: "describe_key_pairs regionIds: [\"*\"], keyPairFingerPrint, 50 key pairs a region", target: 3,
		fills: everyRegion,
		setup: func(ctx context.Context, w *world, c *cloud.Client) error {
			for _, r := range laptopRegions(w) {
				if _, err := c.ImportKeyPair(ctx, schema.ImportKeyPairInput{RegionID: r, KeyPairName: laptopKey, PublicKeyBody: benchKey.line}); err != nil {
					return err
				}
			}
			return nil
		},
		tool: "describe_key_pairs",
		args: func(w *world) map[string]any {
			return map[string]any{"regionIds": []string{schema.AllRegions}, "keyPairFingerPrint": benchKey.fingerprint}
		},
		warm: afterDescribeRegions, warmCall: "after describe_regions",
		sequential: func(ctx context.Context, w *world) error {
			regions, err := w.cloud.DescribeRegions(ctx)
			if err != nil {
				return err
			}
			var found []string
			for _, r := range regions.Regions {
				keys, err := sequentialKeyPairsOf(ctx, w, schema.DescribeKeyPairsInput{RegionID: r.RegionID, KeyPairFingerPrint: benchKey.fingerprint})
				if err != nil {
					return err
				}
				for _, k := range keys {
					found = append(found, k.RegionID)
				}
			}
			if !slices.Equal(found, laptopRegions(w)) {
				return fmt.Errorf("found in %v, want %v", found, laptopRegions(w))
			}
			return nil
		},
		check: func(w *world, outs []map[string]any) error {
			if outs == nil {
				return nil
			}
			var found []string
			keys, _ := outs[0]["keyPairs"].([]any)
			for _, k := range keys {
				found = append(found, k.(map[string]any)["regionId"].(string))
			}
			if !slices.Equal(found, laptopRegions(w)) || outs[0]["regionErrors"] != nil {
				return fmt.Errorf("found in %v (region errors %v), want %v", found, outs[0]["regionErrors"], laptopRegions(w))
			}
			return nil
		},
	},
	{
		name: "import_key_pair regionIds: [\"*\"], every seeded region", target: 3,
		fills: everyRegion,
		tool:  "import_key_pair",
		args: func(w *world) map[string]any {
			return map[string]any{"regionIds": []string{schema.AllRegions}, "keyPairName": laptopKey, "publicKeyBody": benchKey.line}
		},
		warm: afterDescribeRegions, warmCall: "after describe_regions",
		sequential: func(ctx context.Context, w *world) error {
			regions, err := w.cloud.DescribeRegions(ctx)
			if err != nil {
				return err
			}
			for _, r := range regions.Regions {
				if _, err := w.cloud.ImportKeyPair(ctx, schema.ImportKeyPairInput{RegionID: r.RegionID, KeyPairName: laptopKey, PublicKeyBody: benchKey.line}); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(w *world, outs []map[string]any) error {
			snap, err := w.emu.Snapshot()
			if err != nil {
				return err
			}
			var have []string
			for _, k := range snap.KeyPairs {
				if k.KeyPairName == laptopKey && strings.EqualFold(k.FingerPrint, benchKey.fingerprint) {
					have = append(have, k.RegionID)
				}
			}
			if slices.Sort(have); !slices.Equal(have, slices.Sorted(slices.Values(w.regions))) {
				return fmt.Errorf("imported into %v, want every region %v", have, w.regions)
			}
			if outs != nil {
				regions, _ := outs[0]["regions"].([]any)
				for _, r := range regions {
					if o := r.(map[string]any)["outcome"]; o != "imported" {
						return fmt.Errorf("region %v: %v", r.(map[string]any)["regionId"], o)
					}
				}
				if len(regions) != len(w.regions) {
					return fmt.Errorf("%d regions in the result, want %d", len(regions), len(w.regions))
				}
			}
			return nil
		},
	},
}

// stepOutcomes summarises a rotation's steps: each step with items and
// the count of each outcome, e.g. "attach: attached 200".
func stepOutcomes(steps []any) string {
	var parts []string
	for _, s := range steps {
		s := s.(map[string]any)
		items, _ := s["items"].([]any)
		if len(items) == 0 {
			continue
		}
		counts := map[string]int{}
		for _, it := range items {
			counts[it.(map[string]any)["outcome"].(string)]++
		}
		var cs []string
		for _, o := range slices.Sorted(maps.Keys(counts)) {
			cs = append(cs, fmt.Sprintf("%s %d", o, counts[o]))
		}
		parts = append(parts, s["step"].(string)+": "+strings.Join(cs, ", "))
	}
	return strings.Join(parts, "; ")
}

// unusedScenario lists the unused key pairs of a busy region: some are
// bound (boundKeys of them, to boundEach instances each), the answer is
// the others. The result budget may cut the listing: with follow, every
// call to its end is measured, else the first.
func unusedScenario(follow bool) scenario {
	name := "describe_key_pairs inUse: false, 500 key pairs, 1,000 instances"
	if follow {
		name += ", whole listing (following nextToken)"
	}
	return scenario{
		name: name, target: 3,
		fills: func([]string) []fill { return []fill{{region, unusedKeys, unusedInsts}} },
		setup: func(ctx context.Context, w *world, c *cloud.Client) error {
			for i := range boundKeys {
				if err := attachAll(ctx, c, w.keyPairs[i], w.instances[i*boundEach:(i+1)*boundEach]); err != nil {
					return err
				}
			}
			return nil
		},
		tool:   "describe_key_pairs",
		args:   func(w *world) map[string]any { return map[string]any{"regionId": region, "inUse": false} },
		follow: follow,
		sequential: func(ctx context.Context, w *world) error {
			keys, err := sequentialKeyPairsOf(ctx, w, schema.DescribeKeyPairsInput{RegionID: region})
			if err != nil {
				return err
			}
			insts, err := sequentialInstances(ctx, w, schema.DescribeInstancesInput{RegionID: region})
			if err != nil {
				return err
			}
			carried := map[string]bool{}
			for _, in := range insts {
				carried[in.KeyPairName] = true
			}
			unused := 0
			for _, k := range keys {
				if !carried[k.KeyPairName] {
					unused++
				}
			}
			if want := unusedKeys - boundKeys; unused != want {
				return fmt.Errorf("%d unused key pairs, want %d", unused, want)
			}
			return nil
		},
		check: func(w *world, outs []map[string]any) error {
			want := unusedKeys - boundKeys
			seen := map[string]bool{}
			for _, out := range outs {
				if out["totalCount"] != float64(want) {
					return fmt.Errorf("totalCount %v, want %d", out["totalCount"], want)
				}
				keys, _ := out["keyPairs"].([]any)
				for _, k := range keys {
					k := k.(map[string]any)
					name := k["keyPairName"].(string)
					if seen[name] || k["instanceCount"] != float64(0) {
						return fmt.Errorf("key pair %s: listed twice, or in use (%v)", name, k["instanceCount"])
					}
					seen[name] = true
				}
			}
			if complete := outs != nil && outs[len(outs)-1]["nextToken"] == nil; complete && len(seen) != want {
				return fmt.Errorf("%d unused key pairs listed, want %d", len(seen), want)
			}
			return nil
		},
	}
}
