// Command bench measures ecs-keypair-mcp against the targets of BENCHMARKS.md
// and prints the results as Markdown tables. .ci/bench builds the binaries and
// runs it from the repository root; every figure is a median over -runs
// repetitions unless a row says otherwise. All traffic stays on 127.0.0.1.
//
//	go run ./testdata/bench -server BIN -minimal BIN [-runs N] [-only LIST]
//	go run ./testdata/bench -only roundtrips -trace [-scenarios NAME]
//	go run ./testdata/bench -only tokens -tokens-dir DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

func main() {
	serverBin := flag.String("server", "", "the ecs-keypair-mcp binary")
	minimalBin := flag.String("minimal", "", "the minimal mcp-go server (testdata/benchserver)")
	runs := flag.Int("runs", 7, "repetitions of each round-trip scenario")
	spawns := flag.Int("spawns", 60, "start-ups of each binary")
	calls := flag.Int("calls", 2000, "calls to each server for the per-call overhead")
	soak := flag.Int("soak", 10000, "calls in the memory and goroutine soak")
	timeout := flag.Duration("timeout", 20*time.Minute, "give up after this long")
	only := flag.String("only", "roundtrips,startup,percall,soak", "comma-separated sections to run (also: tokens)")
	match := flag.String("scenarios", "", "run only the round-trip scenarios whose name contains this")
	flag.IntVar(&concurrency, "concurrency", 0, "the round trips' cloud client bound on requests in flight (default: cloud.DefaultConcurrency)")
	tokensDir := flag.String("tokens-dir", "", "where the tokens section writes the results it counts (default: a new temporary directory)")
	trace := flag.Bool("trace", false, "instead of the round-trip table, print the requests of one cold and one warm call of each scenario")
	toolsInit := flag.Bool("tools-init", false, "print how long the first tools.All takes in this process, and exit (used by the start-up section)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *toolsInit {
		start := time.Now()
		tools.All(tools.Deps{})
		fmt.Println(int64(time.Since(start)))
		return
	}
	want := strings.Split(*only, ",")
	needBins := slices.ContainsFunc(want, func(s string) bool { return s != "roundtrips" && s != "tokens" })
	if needBins && (*serverBin == "" || *minimalBin == "") {
		fmt.Fprintln(os.Stderr, "bench: -server and -minimal are required (run .ci/bench)")
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	// Every wait is bounded; this is the backstop. Child processes die with
	// this one (see spawn).
	time.AfterFunc(*timeout, func() {
		fmt.Fprintf(os.Stderr, "bench: gave up after %s\n", *timeout)
		os.Exit(3)
	})
	for _, section := range want {
		var err error
		switch section {
		case "roundtrips":
			err = benchRoundTrips(*runs, *match, *trace)
		case "startup":
			err = benchStartup(*serverBin, *minimalBin, *spawns)
		case "percall":
			err = benchPerCall(*serverBin, *minimalBin, *calls)
		case "soak":
			err = benchSoak(*serverBin, *soak)
		case "tokens":
			err = benchTokens(*tokensDir)
		default:
			err = fmt.Errorf("unknown section %q", section)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", section, err)
			os.Exit(1)
		}
	}
	fmt.Printf("\n(%s in all)\n", time.Since(start).Round(time.Second))
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is sorted in place.
func median[T ~int64 | ~int | ~float64](xs []T) T {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// percentile returns the p-th percentile (nearest rank) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	i := int(p/100*float64(len(ds))+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
