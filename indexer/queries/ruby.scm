; kura's Ruby queries, added to tree-sitter-ruby's tags.scm (see python.scm for the capture conventions).

(assignment left: (constant) @name) @symbol.constant

(call
  method: (identifier) @_require
  arguments: (argument_list . (string (string_content) @import.module))
  (#match? @_require "^(require|require_relative|load)$")) @import
