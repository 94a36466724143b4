package tools_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMain runs more parallel tests at once than there are cores, unless
// -parallel says how many: most tests here wait (on deadlines, reboots,
// an emulator's latency) rather than compute. Not under the race detector,
// which makes the same tests CPU-bound: there the default (one per core)
// keeps the timing of deadline tests within their margins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit && !raceEnabled {
		flag.Set("test.parallel", strconv.Itoa(max(8, runtime.GOMAXPROCS(0))))
	}
	os.Exit(m.Run())
}
