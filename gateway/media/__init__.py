"""Report photos and videos at the gateway: upload checks (:mod:`.checks`), image
processing (:mod:`.images`), storage (:mod:`.store`)."""
