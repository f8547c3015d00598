/**
 * Test PKIs for service tests: in-process certificates (pki.ts), identity directories on disk
 * (files.ts), and the seed tutorial's exact openssl recipe (tutorial-recipe.ts).
 */
export * from "./files.ts";
export * from "./pki.ts";
export * from "./tutorial-recipe.ts";
