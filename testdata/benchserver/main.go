// Command benchserver is the baseline of the start-up and per-call
// benchmarks (see BENCHMARKS.md): the least an mcp-go stdio server can be
// that answers one tool, describe_regions, from the ECS API through the
// Alibaba Cloud SDK. Like ecs-keypair-mcp it reads its credentials from
// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET; its
// endpoint (a loopback host:port, over HTTP) comes from BENCH_ECS_HOST.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

type region struct {
	RegionID       string `json:"regionId"`
	LocalName      string `json:"localName"`
	RegionEndpoint string `json:"regionEndpoint"`
	Status         string `json:"status"`
}

type regions struct {
	Regions []region `json:"regions"`
}

func main() {
	client, err := ecs.NewClientWithAccessKey("cn-hangzhou",
		os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host := os.Getenv("BENCH_ECS_HOST")
	var mu sync.Mutex // an SDK client is not safe for concurrent use

	s := server.NewMCPServer("benchserver", "0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("describe_regions", mcp.WithDescription("List ECS regions")),
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req := ecs.CreateDescribeRegionsRequest()
			req.Scheme, req.Domain, req.AcceptLanguage = "http", host, "en-US"
			mu.Lock()
			resp, err := client.DescribeRegions(req)
			mu.Unlock()
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			var out regions
			for _, r := range resp.Regions.Region {
				out.Regions = append(out.Regions, region{r.RegionId, r.LocalName, r.RegionEndpoint, r.Status})
			}
			return mcp.NewToolResultJSON(out)
		})
	if err := server.ServeStdio(s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
