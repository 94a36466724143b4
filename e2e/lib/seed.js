// Sandbox worlds of a chosen size, for `--sandbox --seed FILE`: the form of
// the server's own seed (testdata/seed.json: regions, resourceGroups,
// instances), with the checks the emulator makes of it (region and instance
// ID forms, statuses, OS types, exactly one default resource group, no key
// pairs on seeded instances).

import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";

const REGIONS = [
  ["cn-hangzhou", "China (Hangzhou)"],
  ["cn-shanghai", "China (Shanghai)"],
  ["cn-beijing", "China (Beijing)"],
  ["ap-southeast-1", "Singapore"],
];

// Instance IDs look like ECS's (i-bp1 and 17 of [a-z0-9]) and tokenize like
// them, so that the token counts of a listing are those of a real region;
// derived from the number, so every run has the same world.
const instanceId = (n) => {
  const digest = createHash("sha256").update(`e2e-instance-${n}`).digest();
  const body = Array.from(digest.subarray(0, 17), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  return `i-bp1${body}`;
};

/**
 * A world of a few regions and `count` Running Linux instances in `region`,
 * named `web-0001`... The default resource group's ID is the built-in
 * seed's, so that key pair listings count as they do on the built-in world.
 */
export function scaleSeed({ region = "cn-hangzhou", count }) {
  return {
    regions: REGIONS.map(([regionId, localName]) => ({
      regionId,
      localName,
      regionEndpoint: `ecs.${regionId}.aliyuncs.com`,
      status: "available",
    })),
    resourceGroups: [{ id: "rg-acfmzqyw7x4jb6a", name: "default", default: true }],
    instances: Array.from({ length: count }, (_, n) => ({
      instanceId: instanceId(n + 1),
      instanceName: `web-${String(n + 1).padStart(4, "0")}`,
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
