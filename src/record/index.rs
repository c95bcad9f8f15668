//! The keyed index of a cassette: the hash of a request's matcher fields leads to the
//! bucket of interactions recorded with the same fields, in recorded order, so a
//! lookup costs O(1) on average whatever the cassette's size. It also keeps how often
//! each interaction was played.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys are already hashes: use them as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The interactions recorded under one key, in order: most keys have one, which needs
/// no allocation of its own.
struct Bucket {
    first: usize,
    more: Vec<usize>,
    /// Every id before this position has been played: at-most-once lookups start here.
    start: usize,
}

impl Bucket {
    fn len(&self) -> usize {
        1 + self.more.len()
    }

    fn id(&self, i: usize) -> usize {
        match i {
            0 => self.first,
            i => self.more[i - 1],
        }
    }

    fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// This interaction, now counted as played once more.
    Found(usize),
    /// Only these interactions match, and all of them were already played.
    AllPlayed(Vec<usize>),
    /// Nothing matches.
    None,
}

#[derive(Default)]
pub(crate) struct Index {
    buckets: HashMap<u64, Bucket, BuildHasherDefault<KeyHasher>>,
    plays: Vec<u32>,
}

impl Index {
    pub(crate) fn with_capacity(n: usize) -> Index {
        Index {
            buckets: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            plays: Vec::with_capacity(n),
        }
    }

    /// Adds the next interaction under `key`, played `plays` times already; returns its id.
    pub(crate) fn push(&mut self, key: u64, plays: u32) -> usize {
        let id = self.plays.len();
        self.plays.push(plays);
        self.buckets
            .entry(key)
            .and_modify(|b| b.more.push(id))
            .or_insert(Bucket {
                first: id,
                more: Vec::new(),
                start: 0,
            });
        id
    }

    /// Finds the first unplayed interaction under `key` that `matches` accepts, in
    /// recorded order, and counts it as played. When all that match were played, and
    /// `repeats` is set, plays the last of them again.
    pub(crate) fn find(
        &mut self,
        key: u64,
        repeats: bool,
        mut matches: impl FnMut(usize) -> bool,
    ) -> Lookup {
        let Some(bucket) = self.buckets.get_mut(&key) else {
            return Lookup::None;
        };
        let plays = &mut self.plays;
        while bucket.start < bucket.len() && plays[bucket.id(bucket.start)] > 0 {
            bucket.start += 1;
        }
        for id in bucket.ids().skip(bucket.start) {
            if plays[id] == 0 && matches(id) {
                plays[id] += 1;
                return Lookup::Found(id);
            }
        }
        let played: Vec<usize> = bucket
            .ids()
            .filter(|&id| plays[id] > 0 && matches(id))
            .collect();
        match played.last() {
            Some(&last) if repeats => {
                plays[last] = plays[last].saturating_add(1);
                Lookup::Found(last)
            }
            Some(_) => Lookup::AllPlayed(played),
            None => Lookup::None,
        }
    }

    /// How often interaction `id` was played.
    pub(crate) fn plays(&self, id: usize) -> u32 {
        self.plays.get(id).copied().unwrap_or(0)
    }

    pub(crate) fn len(&self) -> usize {
        self.plays.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_once_in_order_then_repeats() {
        let mut index = Index::default();
        let a = index.push(7, 0);
        let b = index.push(7, 0);
        let _other = index.push(9, 0);
        assert_eq!(index.find(7, false, |_| true), Lookup::Found(a));
        assert_eq!(index.find(7, false, |_| true), Lookup::Found(b));
        assert_eq!(
            index.find(7, false, |_| true),
            Lookup::AllPlayed(vec![a, b])
        );
        assert_eq!(index.find(7, true, |_| true), Lookup::Found(b));
        assert_eq!(index.plays(b), 2);
        assert_eq!(index.find(8, true, |_| true), Lookup::None);
        assert_eq!(index.find(9, false, |_| false), Lookup::None);
    }
}
