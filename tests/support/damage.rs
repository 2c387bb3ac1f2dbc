//! Damages a SQLite file the way a disk or a careless copy would: one page
//! of random bytes. Shared by the storage, scheduler and bot tests
//! (`#[path]`-included, so it needs nothing from the fake Discord).

use std::path::Path;

/// Overwrites the middle one of the database's table leaf pages that hold
/// rows (other than the schema page) with random bytes. Returns how many
/// rows that page held. The database must be closed (checkpointed).
pub fn smash_a_leaf_page(path: &Path, seed: u64) -> usize {
    let mut bytes = std::fs::read(path).expect("read the database");
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        n => usize::from(n),
    };
    let leaves: Vec<(usize, usize)> = (1..bytes.len() / page_size)
        .filter_map(|i| {
            let at = i * page_size;
            let cells = usize::from(u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]));
            (bytes[at] == 0x0D && cells > 0).then_some((at, cells))
        })
        .collect();
    assert!(
        leaves.len() >= 3,
        "too few leaf pages to damage one in the middle: {}",
        leaves.len()
    );
    let (at, cells) = leaves[leaves.len() / 2];
    let mut x = seed | 1;
    for b in &mut bytes[at..at + page_size] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(path, &bytes).expect("write the database");
    cells
}

/// Sets servers up as `/tips set` would at `now`: each of `guilds` (channel
/// = its position + 1) posts daily at `time` in `tz`. The store is closed
/// again, so the file is ready to damage.
pub fn fill(
    path: &Path,
    guilds: impl IntoIterator<Item = u64>,
    time: chrono::NaiveTime,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) {
    use massage_bot::storage::SqliteStore;
    use massage_bot::tips::{ChannelId, GuildId, Schedule};
    let store = SqliteStore::open(path).expect("open the database");
    for (i, guild) in guilds.into_iter().enumerate() {
        let schedule = Schedule {
            channel: ChannelId(i as u64 + 1),
            time,
            tz,
        };
        store
            .put_settings(GuildId(guild), &schedule, now)
            .expect("save settings");
    }
}
