package main

import (
	"testing"
	"time"
)

func TestDurationValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"2m", 2 * time.Minute, true},
		{"0s", 0, false},
		{"-1s", 0, false},
		{"soon", 0, false},
	} {
		var d time.Duration
		err := durationValue{&d}.Set(tc.in)
		if (err == nil) != tc.ok || d != tc.want {
			t.Errorf("Set(%q) = %s, %v", tc.in, d, err)
		}
	}
}

func TestClosest(t *testing.T) {
	flags := []string{"sandbox", "state-dir", "seed", "read-only", "timeout"}
	toolNames := []string{"describe_key_pairs", "delete_key_pairs", "attach_key_pair", "detach_key_pair"}
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"sandbx", flags, "sandbox"},
		{"state", flags, "state-dir"}, // 4 edits, but it starts the flag
		{"sed", flags, "seed"},
		{"frobnicate", flags, ""},
		{"delete_keypairs", toolNames, "delete_key_pairs"},
		{"etach_key_pair", toolNames, "detach_key_pair"},
		{"xyz", nil, ""},
	} {
		if got := closest(tc.name, tc.candidates); got != tc.want {
			t.Errorf("closest(%q, %v) = %q, want %q", tc.name, tc.candidates, got, tc.want)
		}
	}
}
