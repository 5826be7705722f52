import Mustache

/// The viewer's page frame and pages, as Mustache templates: the files of `UI/Templates/` (`<name>.mustache`),
/// compiled into the binary. `{{name}}` escapes HTML; there are two `{{{unescaped}}}` slots: the layout's `content`,
/// which holds the output of another template, and the trace page's `modelJSON`, JSON in a `<script
/// type="application/json">` block whose every `<` is written `\u003c` (``HTTPAnswer/jsonForScriptBlock(_:)``). Styles and scripts are files of their own (`UI/Assets`, served under
/// `/static/`): the Content-Security-Policy allows no inline script, and every page shows its data without one.
enum Templates {
    /// Each template's name in the library and its file's bytes.
    static let files: [(name: String, bytes: [UInt8])] = [
        ("layout", PackageResources.layout_mustache),
        ("search", PackageResources.search_mustache),
        ("trace", PackageResources.trace_mustache),
        ("upload", PackageResources.upload_mustache),
        ("notFound", PackageResources.notFound_mustache),
        ("compare", PackageResources.compare_mustache),
        ("monitor", PackageResources.monitor_mustache),
        ("dependencies", PackageResources.dependencies_mustache),
        ("logs", PackageResources.logs_mustache),
        ("noLogStore", PackageResources.noLogStore_mustache),
        ("status", PackageResources.status_mustache),
    ]

    /// Every template, registered under its name.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for file in files {
            try library.register(text(file.bytes), named: file.name)
        }
        return library
    }

    /// A template file's text without the newline that ends the file (a page's content ends where its last line does).
    static func text(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

/// One choice of a form's `<select>` or checkbox group, as the templates render it.
struct FormOption {
    var value: String
    var label: String
    var selected: Bool
}
