"""Open311 GeoReport v2 at the gateway: the documents it renders itself (discovery, POST
answers, errors) and the XML form of every payload (:mod:`.documents`)."""
