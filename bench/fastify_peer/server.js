'use strict'

// The benchmark's peer: GET /teleconsultation/:id served the way the original Node service serves it, on its
// stack (Fastify, the `mongodb` driver, an undici pool to the provider), with no cache: every poll reads the
// teleconsultation from the store and asks the provider for the room's details.
//
//   node server.js   (settings from the environment, below; `make bench` starts it)
//
// PEER_PORT, PEER_KALEYRA_URL, PEER_KALEYRA_API_KEY: where to listen and the (fake) Kaleyra to call.
// PEER_MONGODB_URL, PEER_MONGODB_DATABASE, PEER_COLLECTION: the store the service writes to.
// Without PEER_MONGODB_URL, PEER_DOCUMENTS names a JSON file of stored documents (as the store holds them, with
// `_id` as a string) kept in a Map in this process: the peer of the service on its in-memory store.
// PEER_IMMUTABLE_PERIOD_MS: as the service's IMMUTABLE_PERIOD_MS (links are shown from start minus this).

const fs = require('node:fs')
const Fastify = require('fastify')
const { MongoClient, ObjectId } = require('mongodb')
const { Pool } = require('undici')

const env = process.env
const LIVE_STATES = ['PUBLIC', 'DRAFT']
const OBJECT_ID = /^[0-9a-fA-F]{24}$/
const DETAIL_FIELDS = [
  ['recording', 'recording'],
  ['recording_status', 'recordingStatus'],
  ['call_type', 'callType'],
  ['description', 'description'],
  ['status', 'status'],
  ['disabled', 'disabled'],
  ['creation_date', 'creationDate'],
  ['duration_in_seconds', 'durationInSeconds'],
  ['duration_used_in_seconds', 'durationUsedInSeconds'],
  ['live', 'live'],
]

function notFound (id) {
  return { error: `Room with id ${id} not found on CRUD` }
}

async function openStore () {
  if (env.PEER_MONGODB_URL) {
    const client = new MongoClient(env.PEER_MONGODB_URL)
    await client.connect()
    const collection = client.db(env.PEER_MONGODB_DATABASE || 'teleconsultation')
      .collection(env.PEER_COLLECTION || 'teleconsultations')
    return {
      find: (id) => collection.findOne({ _id: new ObjectId(id), __STATE__: { $in: LIVE_STATES } }),
      close: () => client.close(),
    }
  }
  const documents = new Map()
  for (const document of JSON.parse(fs.readFileSync(env.PEER_DOCUMENTS, 'utf8'))) {
    documents.set(document._id.toLowerCase(), document)
  }
  return {
    find: async (id) => {
      const found = documents.get(id.toLowerCase())
      return found && LIVE_STATES.includes(found.__STATE__) ? structuredClone(found) : null
    },
    close: async () => {},
  }
}

async function main () {
  const store = await openStore()
  const provider = new Pool(env.PEER_KALEYRA_URL, { connections: 64, pipelining: 1 })
  const apiKey = env.PEER_KALEYRA_API_KEY
  const immutablePeriodMs = Number(env.PEER_IMMUTABLE_PERIOD_MS || 0)
  const app = Fastify({ logger: false })

  app.get('/teleconsultation/:id', async (request, reply) => {
    const id = request.params.id
    const userId = request.headers.miauserid
    if (!userId) return reply.code(401).send({ error: 'Unauthorized user' })
    if (!OBJECT_ID.test(id)) return reply.code(404).send(notFound(id))
    const document = await store.find(id)
    if (!document) return reply.code(404).send(notFound(id))
    const participant = document.participants.find((p) => p.userId === userId || p.resolvedUserId === userId)
    if (!participant) return reply.code(401).send({ error: 'Unauthorized user' })
    let details = null
    if (document.bandyerRoomId) {
      const answer = await provider.request({
        method: 'GET',
        path: `/v2/rooms/${encodeURIComponent(document.bandyerRoomId)}`,
        headers: { apikey: apiKey },
      })
      const room = await answer.body.json()
      if (answer.statusCode !== 200) return reply.code(502).send({ error: 'the provider failed' })
      details = {}
      for (const [wire, name] of DETAIL_FIELDS) {
        if (room[wire] !== undefined && room[wire] !== null) details[name] = room[wire]
      }
    }
    const opensAt = new Date(document.startDate).getTime() - immutablePeriodMs
    const visible = document.bandyerRoomId && Date.now() >= opensAt
    return {
      bandyerUserId: participant.userBandyerId,
      accessLinkURL: visible ? participant.accessLinkURL || null : null,
      participantsBandyerCall: document.participants.map((p) => ({
        bandyerUserId: p.userBandyerId,
        fullName: p.fullName ?? null,
      })),
      details,
    }
  })
  app.get('/-/ready', async () => ({ status: 'OK' }))

  const close = async () => {
    await app.close()
    await provider.close()
    await store.close()
    process.exit(0)
  }
  process.on('SIGTERM', close)
  process.on('SIGINT', close)
  await app.listen({ host: '127.0.0.1', port: Number(env.PEER_PORT) })
}

main().catch((error) => {
  console.error(`the Fastify peer did not start: ${error.message}`)
  process.exit(1)
})
