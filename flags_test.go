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
