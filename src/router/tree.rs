//! Routes by pattern, as a tree of path segments, so that finding the routes a path
//! matches costs what the path is long, not how many routes there are.
//!
//! Each node has its literal children (a short list while there are few, a hash map past
//! that, so a lookup costs the same with 100,000 siblings), at most one
//! parameter child (whatever the parameter's name), the routes whose pattern ends there
//! (with and without a trailing slash), and the routes whose pattern ends there in `*`.
//! Matching visits the matching branches most specific first, position by position: a
//! literal, then a parameter, then the end of a pattern, then a wildcard, the order
//! `Pattern::specificity` defines; within a node, routes come in registration order.

use std::collections::HashMap;

use super::pattern::{Pattern, Segment};
use crate::http::path::NormalPath;

/// Past this many literal children, a node looks them up in a hash map.
const FEW: usize = 8;

/// Routes are named by their index in the router's list.
pub type RouteId = usize;

#[derive(Default)]
pub struct Tree {
    root: Node,
}

#[derive(Default)]
struct Node {
    literals: Literals,
    param: Option<Box<Node>>,
    /// Patterns ending here, without and with a trailing slash.
    ends: [Vec<RouteId>; 2],
    /// Patterns ending here in `*`.
    wildcards: Vec<RouteId>,
}

/// The literal children of a node.
enum Literals {
    Few(Vec<(Vec<u8>, Node)>),
    Many(HashMap<Vec<u8>, Node>),
}

impl Default for Literals {
    fn default() -> Self {
        Literals::Few(Vec::new())
    }
}

impl Literals {
    fn get(&self, segment: &[u8]) -> Option<&Node> {
        match self {
            Literals::Few(few) => few.iter().find(|(l, _)| l == segment).map(|(_, n)| n),
            Literals::Many(many) => many.get(segment),
        }
    }

    fn get_or_insert(&mut self, literal: &[u8]) -> &mut Node {
        if let Literals::Few(few) = self {
            if few.len() >= FEW && !few.iter().any(|(l, _)| l == literal) {
                *self = Literals::Many(std::mem::take(few).into_iter().collect());
            }
        }
        match self {
            Literals::Few(few) => {
                let at = match few.iter().position(|(l, _)| l == literal) {
                    Some(at) => at,
                    None => {
                        few.push((literal.to_vec(), Node::default()));
                        few.len() - 1
                    }
                };
                &mut few[at].1
            }
            Literals::Many(many) => many.entry(literal.to_vec()).or_default(),
        }
    }
}

impl Tree {
    pub fn insert(&mut self, pattern: &Pattern, id: RouteId) {
        let mut node = &mut self.root;
        for segment in pattern.segments() {
            node = match segment {
                Segment::Literal(text) => node.literals.get_or_insert(text),
                Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                Segment::Wildcard => return node.wildcards.push(id),
            };
        }
        node.ends[usize::from(pattern.trailing_slash())].push(id);
    }

    /// Calls `found` with every route whose pattern matches `path`, most specific first,
    /// until it returns false.
    pub fn matches(&self, path: &NormalPath<'_>, found: &mut dyn FnMut(RouteId) -> bool) {
        visit(&self.root, path, 0, found);
    }
}

/// Visits `node` for the segments of `path` from `at` on; false once `found` said stop.
fn visit(
    node: &Node,
    path: &NormalPath<'_>,
    at: usize,
    found: &mut dyn FnMut(RouteId) -> bool,
) -> bool {
    if let Some(segment) = path.segments.get(at) {
        if let Some(child) = node.literals.get(segment) {
            if !visit(child, path, at + 1, found) {
                return false;
            }
        }
        if let Some(child) = &node.param {
            if !visit(child, path, at + 1, found) {
                return false;
            }
        }
    } else {
        for &id in &node.ends[usize::from(path.trailing_slash)] {
            if !found(id) {
                return false;
            }
        }
    }
    node.wildcards.iter().all(|&id| found(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path::normalize;

    fn order(patterns: &[&str], path: &str) -> Vec<usize> {
        let mut tree = Tree::default();
        for (id, pattern) in patterns.iter().enumerate() {
            tree.insert(&Pattern::parse(pattern).unwrap(), id);
        }
        let path = normalize(path).unwrap();
        let mut found = Vec::new();
        tree.matches(&path, &mut |id| {
            found.push(id);
            true
        });
        found
    }

    #[test]
    fn most_specific_first_then_registration_order() {
        let patterns = ["/*", "/a/{x}", "/a/b", "/{y}/b", "/a/*", "/a/{z}", "/a"];
        assert_eq!(order(&patterns, "/a/b"), [2, 1, 5, 4, 3, 0]);
        assert_eq!(order(&patterns, "/a"), [6, 4, 0]);
        assert_eq!(order(&patterns, "/"), [0]);
        assert_eq!(order(&["/x/", "/x"], "/x/"), [0]);
    }

    #[test]
    fn many_siblings_are_found_the_same_way() {
        let mut patterns: Vec<String> = (0..100).map(|i| format!("/n{i}/leaf")).collect();
        patterns.push("/{p}/leaf".to_string());
        let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
        assert_eq!(order(&patterns, "/n57/leaf"), [57, 100]);
        assert_eq!(order(&patterns, "/other/leaf"), [100]);
        assert_eq!(order(&patterns, "/n57"), Vec::<usize>::new());
    }
}
