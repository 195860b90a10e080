// Builds the viewer into dist/: the page, its script and style from src/, and CesiumJS's
// prebuilt library (node_modules/cesium/Build/Cesium: Cesium.js, its workers, widgets and
// assets, among them the Natural Earth II imagery the globe shows offline).
// No bundler: the page loads Cesium.js as a script and reads the global Cesium.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const cesium = join(here, "node_modules", "cesium", "Build", "Cesium");
if (!existsSync(join(cesium, "Cesium.js"))) {
  console.error(`build: ${cesium}/Cesium.js is missing: run 'npm ci' in web/ first`);
  process.exit(1);
}
const dist = join(here, "dist");
const tmp = join(here, "dist.partial");
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
cpSync(cesium, join(tmp, "cesium"), { recursive: true });
for (const f of ["index.html", "viewer.js", "viewer.css"]) cpSync(join(here, "src", f), join(tmp, f));
writeFileSync(join(tmp, "BUILT"), `cesium ${JSON.parse(
  (await import("node:fs")).readFileSync(join(here, "node_modules", "cesium", "package.json"), "utf8")).version}\n`);
rmSync(dist, { recursive: true, force: true });
cpSync(tmp, dist, { recursive: true });
rmSync(tmp, { recursive: true, force: true });
console.log(`build: wrote ${dist}`);
