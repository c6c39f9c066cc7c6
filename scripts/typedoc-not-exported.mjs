// TypeDoc plugin: `validation.notExported` for the published packages. TypeDoc's own check skips every type
// declared outside the project's package ("talus-monorepo", which has no code), so it never looks at @talus/*.
// This one does the same walk over the documented API (declarations, signatures, parameters, type parameters;
// not `extends` clauses or inherited members, as TypeDoc's) and reports each type declared in one of
// `packagesRequiringDocumentation` that a documented signature references but no package exports: a type users
// meet in the API yet cannot import. The warnings are validation warnings, so the run fails on them.
//
// `internalTypes` (this plugin's option, like TypeDoc's `intentionallyNotExported`: "Name" or "src/path.ts:Name")
// lists the implementation types only engine plumbing references (an internal constructor's parameter, a method
// the tree calls); they stay unexported. An entry that no longer matches anything is a warning too.
import {
  Application,
  ParameterType,
  ContainerReflection,
  DeclarationReflection,
  ParameterReflection,
  Reflection,
  SignatureReflection,
  TypeParameterReflection,
  makeRecursiveVisitor,
} from "typedoc";

/** @param {Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: "internalTypes",
    help: "Types of the published packages that documented signatures may reference without exporting them.",
    type: ParameterType.Array,
  });
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue("validation").notExported) return;
    const checked = new Set(app.options.getValue("packagesRequiringDocumentation"));
    const internal = app.options.getValue("internalTypes").map((entry) => {
      const colon = entry.lastIndexOf(":");
      return { entry, file: colon === -1 ? "" : entry.slice(0, colon), name: entry.slice(colon + 1), used: false };
    });
    const warned = new Set();
    for (const { type, owner } of referenceTypes(project)) {
      if (type.reflection || type.externalUrl || type.isIntentionallyBroken() || !type.symbolId) continue;
      if (!checked.has(type.package) || project.symbolIdHasBeenRemoved(type.symbolId)) continue;
      const where = `${type.symbolId.packageName}/${type.symbolId.packagePath}`;
      const allowed = internal.find(({ file, name }) => name === type.qualifiedName && where.endsWith(file));
      if (allowed) {
        allowed.used = true;
        continue;
      }
      const key = type.symbolId.getStableKey();
      if (warned.has(key)) continue;
      warned.add(key);
      app.logger.validationWarning(
        `${type.qualifiedName}, defined in ${where}, is referenced by ${owner.getFriendlyFullName()} but not ` +
          `exported from its package's entry (export it, or list it in internalTypes if only plumbing uses it)`,
      );
    }
    for (const { entry, used } of internal) {
      if (!used) app.logger.validationWarning(`internalTypes lists ${entry}, which no documented signature references`);
    }
  });
}

/** Every reference type in the project's reflections, with the reflection it appears in. */
function referenceTypes(project) {
  const result = [];
  let current = project;
  const queue = [];
  const visitor = makeRecursiveVisitor({
    reference: (type) => void result.push({ type, owner: current }),
    reflection: (type) => void queue.push(type.declaration),
  });
  const add = (item) => {
    if (item instanceof Reflection) queue.push(item);
    else if (item) queue.push(...item);
  };
  do {
    if (current instanceof ContainerReflection) add(current.children);
    if (current instanceof DeclarationReflection) {
      current.type?.visit(visitor);
      add(current.typeParameters);
      add(current.signatures);
      add(current.indexSignatures);
      add(current.getSignature);
      add(current.setSignature);
      current.overwrites?.visit(visitor);
      current.implementedTypes?.forEach((type) => type.visit(visitor));
    }
    if (current instanceof SignatureReflection) {
      add(current.parameters);
      add(current.typeParameters);
      current.type?.visit(visitor);
      current.overwrites?.visit(visitor);
    }
    if (current instanceof ParameterReflection) current.type?.visit(visitor);
    if (current instanceof TypeParameterReflection) {
      current.type?.visit(visitor);
      current.default?.visit(visitor);
    }
  } while ((current = queue.shift()));
  return result;
}
