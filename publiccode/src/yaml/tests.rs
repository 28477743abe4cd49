use super::*;

fn read_ok(text: &str) -> Value {
    read(text, Limits::DEFAULT).unwrap().unwrap().to_value()
}

fn get<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.as_mapping().unwrap().get(key).unwrap()
}

#[test]
fn yaml_1_1_booleans_are_strings() {
    let value = read_ok("a: yes\nb: no\nc: on\nd: off\ne: y\nf: true\ng: False\nh: 'true'\ni: TRUE\n");
    for key in ["a", "b", "c", "d", "e", "h"] {
        assert!(
            matches!(get(&value, key), Value::String(_)),
            "{key}: {:?}",
            get(&value, key)
        );
    }
    assert_eq!(get(&value, "f"), &Value::Bool(true));
    assert_eq!(get(&value, "g"), &Value::Bool(false));
    assert_eq!(get(&value, "i"), &Value::Bool(true));
}

#[test]
fn core_schema_numbers_and_nulls() {
    let value = read_ok("a: 1\nb: -0.5\nc: 0x1F\nd: 1.10\ne: 2017-04-15\nf:\ng: ~\nh: 1_000\ni: .inf\nj: 1e3\n");
    assert_eq!(get(&value, "a"), &Value::Int("1".into()));
    assert_eq!(get(&value, "b"), &Value::Float("-0.5".into()));
    assert_eq!(get(&value, "c"), &Value::Int("0x1F".into()));
    assert_eq!(get(&value, "d"), &Value::Float("1.10".into()));
    assert_eq!(get(&value, "e"), &Value::String("2017-04-15".into()));
    assert_eq!(get(&value, "f"), &Value::Null);
    assert_eq!(get(&value, "g"), &Value::Null);
    assert_eq!(get(&value, "h"), &Value::String("1_000".into()));
    assert_eq!(get(&value, "i"), &Value::Float(".inf".into()));
    assert_eq!(get(&value, "j"), &Value::Float("1e3".into()));
}

#[test]
fn an_alias_bomb_stops_at_the_node_limit() {
    // Nine levels of ten aliases: 10^9 nodes once expanded, from 700 bytes.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    assert!(text.len() < 1000);
    let error = read(&text, Limits::DEFAULT).unwrap_err();
    assert!(matches!(error, Error::TooManyNodes { .. }), "{error:?}");
}

#[test]
fn aliases_of_long_strings_stop_at_the_byte_limit() {
    let long = "x".repeat(100_000);
    let mut text = format!("a: &s {long}\nb: [");
    text.push_str(&vec!["*s"; 60].join(", "));
    text.push_str("]\n");
    let error = read(&text, Limits::DEFAULT).unwrap_err();
    assert!(matches!(error, Error::TooManyBytes { .. }), "{error:?}");
}

#[test]
fn small_aliases_are_expanded() {
    let value = read_ok("a: &x {k: v}\nb: *x\n");
    assert_eq!(get(&value, "a"), get(&value, "b"));
}

#[test]
fn nesting_is_bounded_directly_and_through_aliases() {
    let deep = format!("a: {}{}\n", "[".repeat(40), "]".repeat(40));
    assert!(read(&deep, Limits::DEFAULT).is_err());
    let nested = format!(
        "a: &x {}1{}\nb: {}*x{}\n",
        "[".repeat(20),
        "]".repeat(20),
        "[".repeat(20),
        "]".repeat(20)
    );
    let error = read(&nested, Limits::DEFAULT).unwrap_err();
    assert!(matches!(error, Error::TooDeep { .. }), "{error:?}");
}

#[test]
fn duplicate_and_complex_keys_are_refused() {
    let error = read("a: 1\nb: 2\na: 3\n", Limits::DEFAULT).unwrap_err();
    assert!(
        matches!(
            error,
            Error::DuplicateKey {
                first_line: 1,
                pos: Pos { line: 3, column: 1 },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        read("? [a]\n: 1\n", Limits::DEFAULT),
        Err(Error::ComplexKey { .. })
    ));
}

#[test]
fn tags_beyond_the_core_schema_are_refused() {
    assert_eq!(get(&read_ok("a: !!str 12\n"), "a"), &Value::String("12".into()));
    assert_eq!(get(&read_ok("a: ! 12\n"), "a"), &Value::String("12".into()));
    assert!(matches!(
        read("a: !!int x\n", Limits::DEFAULT),
        Err(Error::TagMismatch { .. })
    ));
    assert!(matches!(
        read("a: !custom x\n", Limits::DEFAULT),
        Err(Error::UnsupportedTag { .. })
    ));
    assert!(matches!(
        read("a: !!binary aGk=\n", Limits::DEFAULT),
        Err(Error::UnsupportedTag { .. })
    ));
}

#[test]
fn several_documents_and_syntax_errors_are_located() {
    let error = read("a: 1\n---\nb: 2\n", Limits::DEFAULT).unwrap_err();
    assert_eq!(error.pos().line, 2);
    let error = read("a: 1\nb: [1, 2\nc: 3\n", Limits::DEFAULT).unwrap_err();
    assert!(matches!(error, Error::Syntax { .. }));
    assert_eq!(error.pos().line, 3);
    assert!(read("# only a comment\n", Limits::DEFAULT).unwrap().is_none());
}

#[test]
fn positions_are_one_based() {
    let root = read("a: 1\nb:\n  - x\n  - {k: v}\n", Limits::DEFAULT).unwrap().unwrap();
    let b = root.entry("b").unwrap();
    assert_eq!(b.key_pos, Pos { line: 2, column: 1 });
    let Kind::Seq(items) = &b.value.kind else { panic!() };
    assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
    assert_eq!(items[1].pos, Pos { line: 4, column: 5 });
}

/// Strings that tempt a writer: every one must come back unchanged.
const TRICKY: &[&str] = &[
    "",
    " ",
    "plain",
    "yes",
    "No",
    "ON",
    "y",
    "null",
    "~",
    "true",
    "1",
    "1.5",
    "0x1F",
    ".inf",
    "-",
    "- x",
    "? x",
    ": x",
    "a: b",
    "a #b",
    "#a",
    "a:b",
    "https://example.org/x?y=1#z",
    "2017-04-15",
    "'q'",
    "\"dq\"",
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "two\nlines\n",
    "keep\n\n",
    "\nleading",
    "  indented\nlines",
    "trailing  \nspaces  ",
    "\u{feff}bom",
    "nel\u{85}",
    "ls\u{2028}",
    "bell\u{7}",
    "crlf\r\n",
    "unicode: é ü ß 漢字 🇮🇹",
    "[flow]",
    "{flow}",
    "*alias",
    "&anchor",
    "!tag",
    "%percent",
    "@at",
    "`tick`",
    "|pipe",
    ">fold",
    "a\n  b\n    c\n",
    "\n\n\n",
    "x\n\n\ny",
    "   \n  ",
];

#[test]
fn written_strings_read_back_the_same() {
    let mut mapping = Mapping::new();
    let mut list = Vec::new();
    for (i, text) in TRICKY.iter().enumerate() {
        mapping.insert(format!("k{i}"), Value::String((*text).to_owned()));
        mapping.insert((*text).to_owned(), Value::Int(i.to_string()));
        list.push(Value::String((*text).to_owned()));
    }
    let mut nested = Mapping::new();
    nested.insert("inner", Value::Mapping(mapping.clone()));
    nested.insert(
        "list",
        Value::Sequence(vec![Value::Sequence(list.clone()), Value::Mapping(mapping.clone())]),
    );
    mapping.insert("nested", Value::Mapping(nested));
    mapping.insert("list", Value::Sequence(list));
    mapping.insert("empty map", Value::Mapping(Mapping::new()));
    mapping.insert("empty list", Value::Sequence(Vec::new()));
    mapping.insert(
        "numbers",
        Value::Sequence(vec![Value::Int("-3".into()), Value::Float("1.10".into()), Value::Null]),
    );
    let value = Value::Mapping(mapping);
    let text = to_string(&value);
    let back = read(&text, Limits::DEFAULT)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .unwrap()
        .to_value();
    assert_eq!(back, value, "\n{text}");
}

#[test]
fn multi_line_strings_are_written_as_literal_blocks() {
    let mut mapping = Mapping::new();
    mapping.insert("longDescription", Value::String("First line.\nSecond line.\n".into()));
    let text = to_string(&Value::Mapping(mapping));
    assert_eq!(text, "longDescription: |2\n  First line.\n  Second line.\n");
}
