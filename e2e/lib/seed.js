// Sandbox worlds of a chosen size, for `--sandbox --seed FILE`: the form of
// the server's own seed (testdata/seed.json: regions, resourceGroups,
// instances), with the checks the emulator makes of it (region and instance
// ID forms, statuses, OS types, exactly one default resource group, no key
// pairs on seeded instances).

import { writeFile } from "node:fs/promises";

const REGIONS = [
  ["cn-hangzhou", "China (Hangzhou)"],
  ["cn-shanghai", "China (Shanghai)"],
  ["cn-beijing", "China (Beijing)"],
  ["ap-southeast-1", "Singapore"],
];

/**
 * A world of a few regions and `count` Running Linux instances in `region`,
 * named `scale-0001`..., with IDs that sort as they are numbered.
 */
export function scaleSeed({ region = "cn-hangzhou", count }) {
  return {
    regions: REGIONS.map(([regionId, localName]) => ({
      regionId,
      localName,
      regionEndpoint: `ecs.${regionId}.aliyuncs.com`,
      status: "available",
    })),
    resourceGroups: [{ id: "rg-e2escaledefault", name: "default", default: true }],
    instances: Array.from({ length: count }, (_, n) => ({
      instanceId: `i-e2escale${String(n + 1).padStart(6, "0")}`,
      instanceName: `scale-${String(n + 1).padStart(4, "0")}`,
      regionId: region,
      zoneId: `${region}-h`,
      status: "Running",
      osType: "linux",
      osName: "Alibaba Cloud Linux  3.2104 LTS 64 bit",
      instanceType: "ecs.g7.large",
      imageId: "aliyun_3_x64_20G_alibase_20250117.vhd",
    })),
  };
}

/** Writes a seed to file; returns the file's path. */
export async function writeSeed(file, seed) {
  await writeFile(file, JSON.stringify(seed, null, 1));
  return file;
}
