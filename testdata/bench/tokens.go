package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// The tokens section writes what a client receives for the big listings
// (each result's text and structured content, following nextToken to the
// end) and for tools/list, as files that tokens/count.mjs counts with the
// Claude tokenizer. Go has no copy of that tokenizer; this program only
// produces the inputs, and checks that the listings come back whole.

// manifest says what the files in the tokens directory are.
type manifest struct {
	Listings  []listingFiles `json:"listings"`
	ToolsList string         `json:"toolsList"`
	// ToolsCLI is `ecs-keypair-mcp tools` (pretty), written by .ci/bench
	// next to the others when it runs this section.
	ToolsCLI string `json:"toolsCli"`
}

type listingFiles struct {
	Name  string `json:"name"`
	Items int    `json:"items"`
	// Calls are the results, in order: text and structured content.
	Calls []callFiles `json:"calls"`
	// Whole is the listing as one result, as it was before the result
	// budget: the text pretty-printed, and compact.
	WholePretty  string `json:"wholePretty"`
	WholeCompact string `json:"wholeCompact"`
}

type callFiles struct {
	Text       string `json:"text"`
	Structured string `json:"structured"`
	Items      int    `json:"items"`
}

func benchTokens(dir string) error {
	ctx := context.Background()
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "bench-tokens-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The inUse: false world: 500 key pairs, 1,000 instances, some bound.
	sc := unusedScenario(false)
	w, err := newWorld(ctx, sc.fills, sc.setup)
	if err != nil {
		return err
	}
	defer w.close()
	w.emu.SetFaults(emulator.FaultPlan{}) // no latency: only the results count here
	s, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer s.close()

	m := manifest{ToolsList: "tools-list.json", ToolsCLI: "tools-cli.json"}
	for _, l := range []listing{
		{"describe_key_pairs, 500 key pairs", "key-pairs", "describe_key_pairs", "keyPairs", map[string]any{"regionId": region}},
		{"describe_key_pairs includePublicKey, 500 key pairs (ECDSA P-256)", "key-pairs-public", "describe_key_pairs", "keyPairs",
			map[string]any{"regionId": region, "includePublicKey": true}},
		{"describe_instances, 1,008 instances (1,000 and the seed's 8)", "instances", "describe_instances", "instances", map[string]any{"regionId": region}},
		{"describe_key_pairs inUse: false, 400 of the 500 key pairs", "unused", "describe_key_pairs", "keyPairs", map[string]any{"regionId": region, "inUse": false}},
	} {
		lf, err := writeListing(ctx, s, dir, l)
		if err != nil {
			return err
		}
		m.Listings = append(m.Listings, lf)
	}
	// Key pairs made by CreateKeyPair carry RSA 2048 public keys, two and a
	// half times the size of Populate's ECDSA ones: a world of its own.
	rsa, err := newWorld(ctx, func([]string) []fill { return nil }, func(ctx context.Context, w *world, c *cloud.Client) error {
		errs := make([]error, keyPairs)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 10)
		for i := range keyPairs {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				_, errs[i] = c.CreateKeyPair(ctx, schema.CreateKeyPairInput{RegionID: region, KeyPairName: fmt.Sprintf("rsa-%04d", i+1)})
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	})
	if err != nil {
		return err
	}
	defer rsa.close()
	rsa.emu.SetFaults(emulator.FaultPlan{})
	rs, err := rsa.open(ctx)
	if err != nil {
		return err
	}
	defer rs.close()
	lf, err := writeListing(ctx, rs, dir, listing{"describe_key_pairs includePublicKey, 500 key pairs (RSA 2048, created)", "key-pairs-rsa",
		"describe_key_pairs", "keyPairs", map[string]any{"regionId": region, "includePublicKey": true}})
	if err != nil {
		return err
	}
	m.Listings = append(m.Listings, lf)

	list, err := s.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return err
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, m.ToolsList), b, 0o644); err != nil {
		return err
	}
	b, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		return err
	}

	fmt.Printf("\n## Result sizes, in bytes (written to %s, for tokens/count.mjs)\n\n", dir)
	fmt.Println("| listing | items | calls | whole listing, pretty / compact | largest result: text / structured |")
	fmt.Println("|---|---|---|---|---|")
	for _, l := range m.Listings {
		var text, structured int64
		for _, c := range l.Calls {
			text, structured = max(text, size(dir, c.Text)), max(structured, size(dir, c.Structured))
		}
		fmt.Printf("| %s | %d | %d | %d / %d | %d / %d |\n", l.Name, l.Items, len(l.Calls),
			size(dir, l.WholePretty), size(dir, l.WholeCompact), text, structured)
	}
	fmt.Printf("\ntools/list: %d tools, %d bytes compact.\n", len(list.Tools), size(dir, m.ToolsList))
	return nil
}

// listing is one listing the tokens section reads to its end.
type listing struct {
	name, slug, tool, list string
	args                   map[string]any
}

// writeListing calls the listing's tool, following nextToken to the end,
// writes each result and the listing as one result to dir, and checks that
// every item came once.
func writeListing(ctx context.Context, s *session, dir string, l listing) (listingFiles, error) {
	lf := listingFiles{Name: l.name}
	var whole []json.RawMessage
	seen := map[string]bool{}
	var total any
	args := l.args
	for n := 1; ; n++ {
		res, out, _, err := s.call(ctx, l.tool, args)
		if err != nil {
			return lf, err
		}
		var text strings.Builder
		for _, c := range res.Content {
			if t, ok := c.(mcp.TextContent); ok {
				text.WriteString(t.Text)
			}
		}
		// The structured content as the server sent it (its field order);
		// re-encoding the decoded map would sort the keys.
		structured := []byte(res.RawStructuredContent)
		if len(structured) == 0 {
			return lf, fmt.Errorf("%s: call %d has no structured content", l.name, n)
		}
		cf := callFiles{Text: fmt.Sprintf("%s-%d.txt", l.slug, n), Structured: fmt.Sprintf("%s-%d.json", l.slug, n)}
		if err := os.WriteFile(filepath.Join(dir, cf.Text), []byte(text.String()), 0o644); err != nil {
			return lf, err
		}
		if err := os.WriteFile(filepath.Join(dir, cf.Structured), structured, 0o644); err != nil {
			return lf, err
		}
		var fields map[string]json.RawMessage
		var items []json.RawMessage
		if err := json.Unmarshal(structured, &fields); err != nil {
			return lf, err
		}
		if err := json.Unmarshal(fields[l.list], &items); err != nil {
			return lf, fmt.Errorf("%s: call %d: %s: %w", l.name, n, l.list, err)
		}
		cf.Items = len(items)
		lf.Calls = append(lf.Calls, cf)
		for _, it := range items {
			if seen[string(it)] {
				return lf, fmt.Errorf("%s: call %d repeats %s", l.name, n, it)
			}
			seen[string(it)] = true
		}
		whole, total = append(whole, items...), out["totalCount"]
		next, _ := out["nextToken"].(string)
		if next == "" {
			break
		}
		if n == 100 {
			return lf, fmt.Errorf("%s: still truncated after %d calls", l.name, n)
		}
		args = map[string]any{"nextToken": next}
		for k, v := range l.args {
			args[k] = v
		}
	}
	if total != float64(len(whole)) {
		return lf, fmt.Errorf("%s: %d items listed, totalCount %v", l.name, len(whole), total)
	}
	lf.Items = len(whole)
	// In the output's field order, as the server writes it.
	compact, err := json.Marshal(struct {
		TotalCount int               `json:"totalCount"`
		Items      []json.RawMessage `json:"items"`
	}{len(whole), whole})
	if err != nil {
		return lf, err
	}
	compact = []byte(strings.Replace(string(compact), `"items":`, `"`+l.list+`":`, 1))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact, "", "  "); err != nil {
		return lf, err
	}
	lf.WholeCompact, lf.WholePretty = l.slug+"-whole.json", l.slug+"-whole-pretty.json"
	if err := os.WriteFile(filepath.Join(dir, lf.WholeCompact), compact, 0o644); err != nil {
		return lf, err
	}
	if err := os.WriteFile(filepath.Join(dir, lf.WholePretty), pretty.Bytes(), 0o644); err != nil {
		return lf, err
	}
	return lf, nil
}

func size(dir, name string) int64 {
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return -1
	}
	return fi.Size()
}
