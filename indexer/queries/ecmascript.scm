; kura's queries shared by JavaScript, TypeScript and TSX (see python.scm for the capture conventions).

; tags.scm leaves constructors out; extraction reports `constructor` as SymbolKind.CONSTRUCTOR.
(method_definition
  name: (property_identifier) @name) @symbol.method

(import_statement
  source: (string (string_fragment) @import.module)) @import
(import_clause (identifier) @import.name)
(import_specifier name: (_) @import.name)
(namespace_import (identifier) @import.name)

(export_statement
  source: (string (string_fragment) @import.module)) @import
(export_specifier name: (_) @import.name)

(call_expression
  function: (identifier) @_require
  arguments: (arguments . (string (string_fragment) @import.module))
  (#eq? @_require "require")) @import

(call_expression
  function: (import)
  arguments: (arguments . (string (string_fragment) @import.module))) @import
