"""Extraction from PHP: namespaces, classes, constructors, properties, interfaces, traits, enums, use and require."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname

SOURCE = "<?php\nnamespace App\\Http;\n\nuse App\\Models\\User;\nuse Psr\\Log\\{LoggerInterface, NullLogger};\nrequire_once __DIR__ . '/helpers.php';\nrequire 'config.php';\n\nconst MAX_RETRIES = 3;\n\n/**\n * A session.\n */\n#[Attribute]\nclass Session extends Base implements Closeable\n{\n    private string $url;\n    public const TIMEOUT = 30;\n\n    public function __construct(string $url)\n    {\n        $this->url = $url;\n    }\n\n    // Sends a request.\n    public function request(string $method,\n                            array $headers = []): Response\n    {\n        $inner = fn($x) => $x * 2;\n        return $this->send($method, $inner(1));\n    }\n}\n\ninterface Handler { public function handle(Request $r): void; }\n\ntrait Loggable { function log($m) {} }\n\nenum Suit: string { case Hearts = 'H'; }\n\nfunction helper(int $x): int { return $x; }\n"


def extract(path='src/Session.php'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "App\\Http": "namespace",
        "MAX_RETRIES": "constant",
        "Session": "class",
        "Session.url": "property",
        "Session.TIMEOUT": "constant",
        "Session.__construct": "constructor",
        "Session.request": "method",
        "Handler": "interface",
        "Handler.handle": "method",
        "Loggable": "interface",
        "Loggable.log": "method",
        "Suit": "enum",
        "Suit.Hearts": "enum_member",
        "helper": "function",
    }


def test_docs_and_signatures():
    result = extract()
    assert definition(result, "Session").doc == "A session."
    request = definition(result, "Session.request")
    assert request.signature == "public function request(string $method,\n                            array $headers = []): Response"
    assert request.doc == "Sends a request."


def test_imports():
    assert [(i.module, i.names) for i in extract().imports] == [
        ("App\\Models", ("User",)),
        ("Psr\\Log", ("LoggerInterface", "NullLogger")),
        ("/helpers.php", ()),
        ("config.php", ()),
    ]


def test_references():
    assert {"send", "inner", "Response", "__DIR__"} <= extract().reference_names
