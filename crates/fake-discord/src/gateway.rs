//! The gateway WebSocket: HELLO, IDENTIFY, READY, heartbeats, RESUME.

use super::*;

// ----- gateway -------------------------------------------------------------

/// Sends every pending dispatch to the live connection. Caller holds the lock
/// and has checked `st.live`.
pub(crate) fn flush_pending(st: &mut State_) {
    let Some(live) = st.live else { return };
    let Some(tx) = st.conns.iter().find(|c| c.id == live).map(|c| c.tx.clone()) else {
        st.live = None;
        return;
    };
    while let Some((t, d)) = st.pending.pop_front() {
        st.seq += 1;
        let frame = format!(r#"{{"op":0,"s":{},"t":{},"d":{d}}}"#, st.seq, json!(t));
        st.history.push((st.seq, frame.clone()));
        if tx.send(Out::Text(frame)).is_err() {
            // The connection is gone: it will be replayed on RESUME.
            st.live = None;
            return;
        }
    }
}

pub(crate) async fn gateway_upgrade(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| gateway_conn(socket, inner, query))
}

pub(crate) async fn gateway_conn(socket: WebSocket, inner: Arc<Inner>, query: Option<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let id;
    {
        let mut st = inner.lock();
        st.stats.connections += 1;
        id = st.stats.connections;
        st.connection_queries.push(query);
        st.conns.push(Conn { id, tx: tx.clone() });
        let interval = st.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS);
        let _ = tx.send(Out::Text(
            json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": interval}})
                .to_string(),
        ));
    }
    inner.bump();
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Text(s)) => {
                    if sink.send(Message::Text(s)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code, reason)) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                        .await;
                    break;
                }
                // Abrupt: drop the socket with no close frame.
                Some(Out::Drop) | None => break,
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => on_client_frame(&inner, id, &tx, &t),
                Some(Ok(Message::Binary(b))) => {
                    if let Ok(t) = String::from_utf8(b) {
                        on_client_frame(&inner, id, &tx, &t);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    // Complete the closing handshake, as Discord does.
                    let _ = sink.send(Message::Close(frame)).await;
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    drop(sink);
    drop(stream);
    let mut st = inner.lock();
    st.conns.retain(|c| c.id != id);
    if st.live == Some(id) {
        st.live = None;
    }
    drop(st);
    inner.bump();
}

pub(crate) fn on_client_frame(
    inner: &Inner,
    conn: u32,
    tx: &mpsc::UnboundedSender<Out>,
    text: &str,
) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let op = v["op"].as_i64().unwrap_or(-1);
    let mut st = inner.lock();
    st.frames.push(GatewayFrame {
        connection: conn,
        op,
        payload: v.clone(),
    });
    match op {
        1 => {
            st.stats.heartbeats += 1;
            let _ = tx.send(Out::Text(json!({"op": 11}).to_string()));
        }
        2 => {
            st.stats.identifies += 1;
            st.stats.readies += 1;
            let session = format!("session{}", snowflake());
            st.session_id = Some(session.clone());
            st.seq = 1;
            st.history.clear();
            let guilds: Vec<Value> = st
                .guilds
                .iter()
                .map(|g| json!({"id": g.to_string(), "unavailable": true}))
                .collect();
            let ready = json!({
                "op": 0,
                "s": 1,
                "t": "READY",
                "d": {
                    "v": 10,
                    "user": {
                        "id": APP_ID.to_string(),
                        "username": "massage-bot",
                        "discriminator": "0",
                        "global_name": null,
                        "avatar": null,
                        "bot": true,
                        "verified": true,
                        "mfa_enabled": false,
                        "email": null,
                        "flags": 0,
                    },
                    "guilds": guilds,
                    "session_id": session,
                    "resume_gateway_url": format!("ws://{}/gateway", inner.addr),
                    "shard": v["d"]["shard"].as_array().cloned().unwrap_or_else(|| vec![json!(0), json!(1)]),
                    "application": {"id": APP_ID.to_string(), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                    "user_settings": {},
                    "presences": [],
                    "geo_ordered_rtc_regions": [],
                    "session_type": "normal",
                }
            })
            .to_string();
            st.history.push((1, ready.clone()));
            let _ = tx.send(Out::Text(ready));
            st.live = Some(conn);
            flush_pending(&mut st);
        }
        6 => {
            st.stats.resumes += 1;
            let mode = st.resume_mode.unwrap_or(ResumeMode::Resume);
            let same_session = st.session_id.as_deref() == v["d"]["session_id"].as_str();
            if mode == ResumeMode::Resume && same_session {
                st.stats.resumed += 1;
                let after = v["d"]["seq"].as_u64().unwrap_or(0);
                for (s, frame) in st.history.iter() {
                    if *s > after {
                        let _ = tx.send(Out::Text(frame.clone()));
                    }
                }
                st.seq += 1;
                let resumed = json!({"op": 0, "s": st.seq, "t": "RESUMED", "d": {}}).to_string();
                let seq = st.seq;
                st.history.push((seq, resumed.clone()));
                let _ = tx.send(Out::Text(resumed));
                st.live = Some(conn);
                flush_pending(&mut st);
            } else {
                st.stats.invalid_sessions += 1;
                let _ = tx.send(Out::Text(json!({"op": 9, "d": false}).to_string()));
            }
        }
        _ => {}
    }
    drop(st);
    inner.bump();
}

impl FakeDiscord {
    // ----- gateway control -----------------------------------------------

    /// Sends a dispatch (op 0) with the next sequence number, or queues it
    /// until a session is live.
    pub fn dispatch(&self, event: &str, data: Value) {
        self.dispatch_raw(event, data.to_string());
    }

    /// Sends a dispatch whose `d` is `raw` as is (it need not be JSON a
    /// parser accepts, e.g. nested too deep for serde_json).
    pub fn dispatch_raw(&self, event: &str, raw: String) {
        let mut st = self.inner.lock();
        st.pending.push_back((event.to_owned(), raw));
        if st.live.is_some() {
            flush_pending(&mut st);
        }
        drop(st);
        self.inner.bump();
    }

    /// Closes the live gateway connection abruptly (no close frame), as a
    /// network failure would. The client must reconnect.
    pub fn drop_gateway(&self) {
        self.end_gateway(Out::Drop);
    }

    /// Closes the live gateway connection with a close frame.
    pub fn close_gateway(&self, code: u16, reason: &str) {
        self.end_gateway(Out::Close(code, reason.to_owned()));
    }

    /// Discord goes away entirely: the listener closes (new connections are
    /// refused) and every gateway connection drops without a close frame.
    pub fn vanish(&self) {
        self.server.abort();
        let mut st = self.inner.lock();
        st.live = None;
        for c in st.conns.drain(..) {
            let _ = c.tx.send(Out::Drop);
        }
        drop(st);
        self.inner.bump();
    }

    /// Sends op 7 (RECONNECT) on the live connection.
    pub fn request_reconnect(&self) {
        let st = self.inner.lock();
        if let Some(c) = st.live.and_then(|id| st.conns.iter().find(|c| c.id == id)) {
            let _ =
                c.tx.send(Out::Text(json!({"op": 7, "d": null}).to_string()));
        }
    }

    fn end_gateway(&self, how: Out) {
        let mut st = self.inner.lock();
        if let Some(id) = st.live.take() {
            if let Some(pos) = st.conns.iter().position(|c| c.id == id) {
                let c = st.conns.remove(pos);
                let _ = c.tx.send(how);
            }
        }
        drop(st);
        self.inner.bump();
    }
}
