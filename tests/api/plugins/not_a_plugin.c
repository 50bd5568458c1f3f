/* A shared library that is not a Tessera plugin: it exports no entry symbol. */
__attribute__((visibility("default"))) int some_other_library_function(int x) { return x + 1; }
