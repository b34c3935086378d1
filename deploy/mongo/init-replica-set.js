// deploy/compose.cluster.yml's mongo-init, step 1, against the member `mongo` as root:
// forms the replica set `mignet` once (a no-op when it exists). Members mongo-2 and mongo-3
// start empty (no init scripts) and copy everything, the users included, from `mongo`.
try {
  rs.status();
  print("replica set mignet: exists");
} catch (e) {
  if (e.code !== 94) throw e; // anything but NotYetInitialized (a refused login, say) is a real error
  rs.initiate({
    _id: "mignet",
    members: [
      { _id: 0, host: "mongo:27017" },
      { _id: 1, host: "mongo-2:27017" },
      { _id: 2, host: "mongo-3:27017" },
    ],
  });
  print("replica set mignet: initiated");
}
