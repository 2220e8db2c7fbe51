"""Extraction from Ruby: modules, classes, initialize, singleton methods, constants, requires."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname

SOURCE = 'require "json"\nrequire_relative "lib/http"\n\nmodule Acme\n  # Maximum retries.\n  MAX_RETRIES = 3\n\n  # A session\n  # that sends requests.\n  class Session < Base\n    attr_reader :url\n\n    def initialize(url)\n      @url = url\n    end\n\n    # Sends a request.\n    def request(method,\n                body = nil)\n      inner = ->(x) { x * 2 }\n      send_it(method, inner.call(1))\n    end\n\n    def self.create(url) = new(url)\n\n    class << self\n      def registry; @registry ||= {}; end\n    end\n  end\nend\n\ndef top_level_helper(x)\n  x.to_s\nend\n'


def extract(path='lib/session.rb'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "Acme": "module",
        "Acme.MAX_RETRIES": "constant",
        "Acme.Session": "class",
        "Acme.Session.initialize": "constructor",
        "Acme.Session.request": "method",
        "Acme.Session.create": "method",
        "Acme.Session.registry": "method",
        "top_level_helper": "method",
    }


def test_docs_and_signatures():
    result = extract()
    assert definition(result, "Acme.Session").doc == "A session\nthat sends requests."
    assert definition(result, "Acme.Session").signature == "class Session < Base"
    assert definition(result, "Acme.MAX_RETRIES").doc == "Maximum retries."
    request = definition(result, "Acme.Session.request")
    assert request.signature == "def request(method,\n                body = nil)"
    assert request.doc == "Sends a request."


def test_requires():
    assert [(i.module, i.line) for i in extract().imports] == [("json", 0), ("lib/http", 1)]


def test_references():
    assert {"send_it", "attr_reader", "inner", "Base"} <= extract().reference_names
