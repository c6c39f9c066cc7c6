// TypeDoc plugin: names each documented module after its package ("@talus/fs") instead of its path relative to
// the entry points' common directory ("fs/src"), so the index reads like the npm names and links can say
// {@link "@talus/lsm-core"!fromModule} from any package's comments (a comment inherited into another package
// resolves its plain {@link name}s from there, where the name may not exist).
import { Converter } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.children ?? []) {
      const packageName = context.project.getSymbolIdFromReflection(module)?.packageName;
      if (packageName !== undefined && packageName.startsWith("@")) module.name = packageName;
    }
  });
}
