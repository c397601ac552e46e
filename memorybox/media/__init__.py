"""Looking inside uploaded files. Processing (renditions, transcoding) plugs in here later."""
