//! Routes by pattern, as a tree of path segments, so that finding the routes a path
//! matches costs what the path is long, not how many routes there are.
//!
//! Each node has its literal children (sorted, found by binary search on the decoded
//! segment: a few comparisons even with 100,000 siblings), at most one
//! parameter child (whatever the parameter's name), the routes whose pattern ends there
//! (with and without a trailing slash), and the routes whose pattern ends there in `*`.
//! Matching visits the matching branches most specific first, position by position: a
//! literal, then a parameter, then the end of a pattern, then a wildcard, the order
//! `Pattern::specificity` defines; within a node, routes come in registration order.

use super::pattern::{Pattern, Segment};
use crate::http::path::NormalPath;

/// Routes are named by their index in the router's list.
pub type RouteId = usize;

#[derive(Default)]
pub struct Tree {
    root: Node,
}

#[derive(Default)]
struct Node {
    /// Sorted by the literal.
    literals: Vec<(Vec<u8>, Node)>,
    param: Option<Box<Node>>,
    /// Patterns ending here, without and with a trailing slash.
    ends: [Vec<RouteId>; 2],
    /// Patterns ending here in `*`.
    wildcards: Vec<RouteId>,
}

impl Tree {
    pub fn insert(&mut self, pattern: &Pattern, id: RouteId) {
        let mut node = &mut self.root;
        for segment in pattern.segments() {
            node = match segment {
                Segment::Literal(text) => {
                    let at = match node.literals.binary_search_by(|(l, _)| l.cmp(text)) {
                        Ok(at) => at,
                        Err(at) => {
                            node.literals.insert(at, (text.clone(), Node::default()));
                            at
                        }
                    };
                    &mut node.literals[at].1
                }
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
        let literal = node
            .literals
            .binary_search_by(|(l, _)| l.as_slice().cmp(segment));
        if let Ok(i) = literal {
            if !visit(&node.literals[i].1, path, at + 1, found) {
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
