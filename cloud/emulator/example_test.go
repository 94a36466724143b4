package emulator_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
)

// ExampleNew starts an emulator seeded with the repository's sandbox world on
// a loopback port and points the Alibaba Cloud Go SDK at it: plain HTTP, the
// emulator's host:port as the endpoint, and the credentials it accepts.
func ExampleNew() {
	seed, err := emulator.LoadSeed(filepath.Join("..", "..", "testdata", "seed.json"))
	if err != nil {
		log.Fatal(err)
	}
	emu, err := emulator.New(emulator.Options{Seed: seed})
	if err != nil {
		log.Fatal(err)
	}
	defer emu.Close()
	srv, err := emu.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := ecs.NewClientWithAccessKey("cn-hangzhou", srv.Credentials.AccessKeyID, srv.Credentials.AccessKeySecret)
	if err != nil {
		log.Fatal(err)
	}
	client.Domain = srv.Host // the SDK's default scheme is HTTP, which loopback needs

	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId, req.Status = "cn-hangzhou", "Stopped"
	resp, err := client.DescribeInstances(req)
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range resp.Instances.Instance {
		fmt.Println(in.InstanceName, in.OSType, in.Status)
	}
	// Output:
	// db-replica-01 linux Stopped
	// batch-worker-01 linux Stopped
	// rdp-jump-01 windows Stopped
}
