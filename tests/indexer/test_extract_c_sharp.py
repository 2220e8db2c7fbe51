"""Extraction from C#: namespaces, generic classes, properties, constructors, local functions, structs, enums, records, usings."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname

SOURCE = 'using System;\nusing System.Collections.Generic;\nusing static System.Math;\nusing Json = Newtonsoft.Json;\n\nnamespace Acme.Http\n{\n    /// <summary>A session.</summary>\n    [Serializable]\n    public class Session<T> : Base, IDisposable where T : class\n    {\n        private const int MaxRetries = 3;\n        private readonly string _url, _name;\n\n        public string Url { get; set; }\n\n        public Session(string url) { _url = url; }\n\n        // Sends a request.\n        public async Task<Response> Request(string method,\n                                            IDictionary<string, T> headers)\n        {\n            int Inner(int x) => x * 2;\n            return await Send(method, Inner(1));\n        }\n\n        public void Dispose() { }\n    }\n\n    public interface IHandler { void Handle(Request r); }\n\n    public struct Point { public int X; }\n\n    public enum Mode { Fast, Slow }\n\n    public record Person(string Name);\n}\n'


def extract(path='src/Session.cs'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "Acme.Http": "namespace",
        "Acme.Http.Session": "class",
        "Acme.Http.Session.MaxRetries": "field",
        "Acme.Http.Session._url": "field",
        "Acme.Http.Session.Url": "property",
        "Acme.Http.Session.Session": "constructor",
        "Acme.Http.Session.Request": "method",
        "Acme.Http.Session.Request.Inner": "function",
        "Acme.Http.Session.Dispose": "method",
        "Acme.Http.IHandler": "interface",
        "Acme.Http.IHandler.Handle": "method",
        "Acme.Http.Point": "struct",
        "Acme.Http.Point.X": "field",
        "Acme.Http.Mode": "enum",
        "Acme.Http.Mode.Fast": "enum_member",
        "Acme.Http.Mode.Slow": "enum_member",
        "Acme.Http.Person": "class",
    }


def test_docs_and_signatures():
    result = extract()
    session = definition(result, "Acme.Http.Session")
    assert session.doc == "A session."
    assert session.signature == "[Serializable]\n    public class Session<T> : Base, IDisposable where T : class"
    request = definition(result, "Acme.Http.Session.Request")
    assert request.doc == "Sends a request."
    assert request.signature.endswith("IDictionary<string, T> headers)")


def test_usings():
    assert [i.module for i in extract().imports] == [
        "System", "System.Collections.Generic", "System.Math", "Newtonsoft.Json",
    ]


def test_references():
    assert {"Send", "Task", "IDisposable", "Inner"} <= extract().reference_names
