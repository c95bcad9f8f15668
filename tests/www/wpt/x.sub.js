var x = "{{GET[x]}}";
