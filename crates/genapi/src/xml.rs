//! A compact element tree built from quick-xml events.
//!
//! Written here rather than using a DOM crate because loading speed matters
//! (a 1.3 MB description must load in a few milliseconds) and a GenApi loader
//! needs little: element names, a few attributes, text content and byte
//! offsets for error messages. Whitespace between elements, comments and
//! processing instructions are dropped; CDATA and entity references are kept
//! as text.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

/// Where the XML is malformed: the byte offset and what is wrong.
#[derive(Debug, Clone)]
pub(crate) struct XmlError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug)]
struct Elem<'a> {
    name: &'a str,
    offset: usize,
    attrs: (u32, u32),
    text: Cow<'a, str>,
    first_child: u32,
    next_sibling: u32,
}

const NONE: u32 = u32::MAX;

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    elems: Vec<Elem<'a>>,
    attrs: Vec<(&'a str, Cow<'a, str>)>,
}

/// An element of a document.
#[derive(Clone, Copy)]
pub(crate) struct Node<'d, 'a> {
    doc: &'d Doc<'a>,
    index: u32,
}

/// A slice of the document as `str`, found by position: the document is
/// already UTF-8, so no second validation is needed.
fn text_of<'a>(text: &'a str, part: &[u8], offset: usize) -> Result<&'a str, XmlError> {
    reslice(text, part).ok_or_else(|| XmlError {
        offset,
        message: "text does not lie on character boundaries".into(),
    })
}

impl<'a> Doc<'a> {
    /// Parses a whole document.
    pub fn parse(text: &'a str) -> Result<Doc<'a>, XmlError> {
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        let mut doc = Doc {
            elems: Vec::with_capacity(text.len() / 40),
            attrs: Vec::new(),
        };
        // The open elements, and for each the last child appended.
        let mut stack: Vec<(u32, u32)> = Vec::new();
        let mut root = None;
        loop {
            let offset = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| XmlError {
                offset: reader.error_position() as usize,
                message: e.to_string(),
            })?;
            match event {
                Event::Start(e) => {
                    let index = doc.open(text, &e, offset, &stack, &mut root)?;
                    link(&mut doc.elems, &mut stack, index);
                    stack.push((index, NONE));
                }
                Event::Empty(e) => {
                    let index = doc.open(text, &e, offset, &stack, &mut root)?;
                    link(&mut doc.elems, &mut stack, index);
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    let raw = text_of(text, borrowed(t.into_inner(), offset)?, offset)?;
                    if let Some((parent, _)) = stack.last() {
                        if raw.trim().is_empty() {
                            continue;
                        }
                        let s = quick_xml::escape::unescape(raw).map_err(|err| XmlError {
                            offset,
                            message: err.to_string(),
                        })?;
                        append(&mut doc.elems[*parent as usize].text, s);
                    } else if !raw.trim().is_empty() {
                        return Err(XmlError {
                            offset,
                            message: "text outside the root element".into(),
                        });
                    }
                }
                Event::CData(t) => {
                    let s = text_of(text, borrowed(t.into_inner(), offset)?, offset)?;
                    if let Some((parent, _)) = stack.last() {
                        append(&mut doc.elems[*parent as usize].text, Cow::Borrowed(s));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError {
                offset: text.len(),
                message: "unexpected end of document: an element is not closed".into(),
            });
        }
        if root.is_none() {
            return Err(XmlError {
                offset: 0,
                message: "no root element".into(),
            });
        }
        Ok(doc)
    }

    /// Appends an element (not yet linked to its parent) and returns its index.
    fn open(
        &mut self,
        text: &'a str,
        e: &quick_xml::events::BytesStart<'_>,
        offset: usize,
        stack: &[(u32, u32)],
        root: &mut Option<u32>,
    ) -> Result<u32, XmlError> {
        let err = |message: String| XmlError { offset, message };
        let name = reslice(text, local_bytes(e.name().into_inner()))
            .ok_or_else(|| err("invalid UTF-8 in a name".into()))?;
        let start = self.attrs.len() as u32;
        for a in e.attributes() {
            let a = a.map_err(|x| err(x.to_string()))?;
            let key = reslice(text, a.key.local_name().into_inner())
                .ok_or_else(|| err("invalid UTF-8 in a name".into()))?;
            let raw = reslice(text, &a.value)
                .ok_or_else(|| err("invalid UTF-8 in an attribute".into()))?;
            let value = quick_xml::escape::unescape(raw).map_err(|x| err(x.to_string()))?;
            self.attrs.push((key, value));
        }
        let index = self.elems.len() as u32;
        if stack.is_empty() {
            if root.is_some() {
                return Err(err("more than one root element".into()));
            }
            *root = Some(index);
        }
        self.elems.push(Elem {
            name,
            offset,
            attrs: (start, self.attrs.len() as u32),
            text: Cow::Borrowed(""),
            first_child: NONE,
            next_sibling: NONE,
        });
        Ok(index)
    }

    /// The root element.
    pub fn root(&self) -> Node<'_, 'a> {
        Node {
            doc: self,
            index: 0,
        }
    }
}

/// Event content as a slice of the document: a reader over a `&str` always
/// borrows, so an owned buffer would mean a broken invariant, reported as an error.
fn borrowed<'a>(content: Cow<'a, [u8]>, offset: usize) -> Result<&'a [u8], XmlError> {
    match content {
        Cow::Borrowed(b) => Ok(b),
        Cow::Owned(_) => Err(XmlError {
            offset,
            message: "internal: event content not borrowed from the document".into(),
        }),
    }
}

/// Makes `index` the last child of the innermost open element.
fn link(elems: &mut [Elem<'_>], stack: &mut [(u32, u32)], index: u32) {
    if let Some((parent, last)) = stack.last_mut() {
        if *last == NONE {
            elems[*parent as usize].first_child = index;
        } else {
            elems[*last as usize].next_sibling = index;
        }
        *last = index;
    }
}

/// `part`, a slice of the document's bytes, as a `str` borrowed from the document.
///
/// The reader hands out slices tied to its events; the tree keeps slices of the
/// document itself, found again by position, so that nothing is copied.
fn reslice<'a>(text: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    text.get(start..start.checked_add(part.len())?)
}

fn local_bytes(b: &[u8]) -> &[u8] {
    match b.iter().rposition(|&c| c == b':') {
        Some(i) => &b[i + 1..],
        None => b,
    }
}

fn append<'a>(into: &mut Cow<'a, str>, s: Cow<'a, str>) {
    if into.is_empty() {
        *into = s;
    } else {
        into.to_mut().push_str(&s);
    }
}

impl<'d, 'a> Node<'d, 'a> {
    fn elem(&self) -> &'d Elem<'a> {
        &self.doc.elems[self.index as usize]
    }

    /// The element's local name (without a namespace prefix).
    pub fn tag(&self) -> &'a str {
        self.elem().name
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&'d str> {
        let (a, b) = self.elem().attrs;
        self.doc.attrs[a as usize..b as usize]
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| &**v)
    }

    /// The byte offset of the element's start tag.
    pub fn offset(&self) -> usize {
        self.elem().offset
    }

    /// The element's own text (text and CDATA, entities resolved), trimmed.
    pub fn text(&self) -> &'d str {
        self.elem().text.trim()
    }

    /// The child elements.
    pub fn children(&self) -> Children<'d, 'a> {
        Children {
            doc: self.doc,
            next: self.elem().first_child,
        }
    }
}

/// Iterator over child elements.
pub(crate) struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    next: u32,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = Node<'d, 'a>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NONE {
            return None;
        }
        let n = Node {
            doc: self.doc,
            index: self.next,
        };
        self.next = self.doc.elems[self.next as usize].next_sibling;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_text_and_attributes() {
        let d = Doc::parse("<?xml version='1.0'?>\n<r a=\"x&amp;y\"><b>1 <![CDATA[<2>]]> &lt;3</b><c/><g:d Name=' n '>t</g:d></r>").unwrap();
        let r = d.root();
        assert_eq!(r.tag(), "r");
        assert_eq!(r.attribute("a"), Some("x&y"));
        let kids: Vec<_> = r.children().collect();
        assert_eq!(kids.len(), 3);
        assert_eq!(kids[0].text(), "1 <2> <3");
        assert_eq!(kids[1].tag(), "c");
        assert_eq!(kids[1].children().count(), 0);
        assert_eq!(kids[2].tag(), "d");
        assert_eq!(kids[2].attribute("Name"), Some(" n "));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            "<a><b></a>",
            "<a>",
            "",
            "<a></a><b/>",
            "<a x='1' x='2'/>",
            "<a>&bogus;</a>",
        ] {
            assert!(Doc::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
