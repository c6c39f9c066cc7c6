import { talusVitestConfig } from "../../vitest.shared.ts";

export default talusVitestConfig;
