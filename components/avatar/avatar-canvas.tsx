"use client";

import { VRMLoaderPlugin, VRMUtils, type VRM } from "@pixiv/three-vrm";
import { useEffect, useRef } from "react";
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { listenToSpeech, speechLevel } from "../speech/speech-level";
import { idleMotion, mouthFromLevel } from "./motion";

export interface AvatarCanvasProps {
  url: string;
  /** Called once the model is on screen (the poster can go), or with the error that kept it away. */
  onReady?: () => void;
  onError?: (error: unknown) => void;
  /** Orbit with the pointer (the character page); the chat's avatar only looks at the reader. */
  orbit?: boolean;
}

/**
 * The 3D viewer: three.js, with three-vrm for VRM models. A VRM speaks with the character's voice
 * (its `aa` expression follows the loudness of the speech being heard), blinks, breathes and looks
 * at the viewer; a plain GLB (a generated model has no rig) sways gently and swells a little with
 * the voice. Loaded only where an avatar is shown (next/dynamic), so other pages carry no 3D code.
 */
export default function AvatarCanvas({ url, onReady, onError, orbit = true }: AvatarCanvasProps) {
  const host = useRef<HTMLDivElement>(null);
  const callbacks = useRef({ onReady, onError });
  useEffect(() => {
    callbacks.current = { onReady, onError };
  }, [onReady, onError]);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let disposed = false;
    let renderer: THREE.WebGLRenderer;
    try {
      renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, powerPreference: "low-power" });
    } catch (error) {
      // No WebGL here (disabled, or no GPU and no software fallback): the portrait stays.
      callbacks.current.onError?.(error);
      return;
    }
    renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    renderer.outputColorSpace = THREE.SRGBColorSpace;
    element.appendChild(renderer.domElement);
    renderer.domElement.setAttribute("aria-hidden", "true");

    const scene = new THREE.Scene();
    const camera = new THREE.PerspectiveCamera(30, 1, 0.05, 100);
    scene.add(new THREE.HemisphereLight(0xffffff, 0x3b3355, 2.2));
    const key = new THREE.DirectionalLight(0xffffff, 2);
    key.position.set(1, 2, 3);
    scene.add(key);
    const controls = new OrbitControls(camera, renderer.domElement);
    controls.enabled = orbit;
    controls.enableDamping = true;
    controls.enablePan = false;

    const resize = () => {
      const { clientWidth: width, clientHeight: height } = element;
      if (width === 0 || height === 0) return;
      renderer.setSize(width, height, false);
      renderer.domElement.style.width = "100%";
      renderer.domElement.style.height = "100%";
      camera.aspect = width / height;
      camera.updateProjectionMatrix();
    };
    const resizing = new ResizeObserver(resize);
    resizing.observe(element);
    resize();

    const stopListening = listenToSpeech();
    const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    let vrm: VRM | null = null;
    let model: THREE.Object3D | null = null;
    let mouth = 0;
    let shownMouth = "";
    const timer = new THREE.Timer();
    // Drawn only while on screen: an avatar scrolled away costs nothing.
    let visible = true;
    const seen = new IntersectionObserver(([entry]) => (visible = entry?.isIntersecting ?? true));
    seen.observe(element);

    const loader = new GLTFLoader();
    loader.register((parser) => new VRMLoaderPlugin(parser));
    loader
      .loadAsync(url)
      .then((gltf) => {
        if (disposed) return;
        vrm = (gltf.userData.vrm as VRM | undefined) ?? null;
        if (vrm) {
          VRMUtils.removeUnnecessaryVertices(gltf.scene);
          VRMUtils.rotateVRM0(vrm);
          if (vrm.lookAt) vrm.lookAt.target = camera;
        }
        model = vrm?.scene ?? gltf.scene;
        scene.add(model);
        frame(model, camera, controls, Boolean(vrm));
        element.dataset.loaded = vrm ? "vrm" : "glb";
        callbacks.current.onReady?.();
      })
      .catch((error: unknown) => {
        if (!disposed) callbacks.current.onError?.(error);
      });

    renderer.setAnimationLoop(() => {
      timer.update();
      const delta = Math.min(timer.getDelta(), 0.1);
      const time = timer.getElapsed();
      // Smoothed so the mouth does not flutter with every syllable's peak, but opens within a frame.
      mouth = mouthFromLevel(speechLevel(), mouth);
      if (!visible || !model) return;
      const idle = idleMotion(time, reducedMotion);
      if (vrm) {
        vrm.expressionManager?.setValue("aa", mouth);
        vrm.expressionManager?.setValue("blink", idle.blink);
        const chest = vrm.humanoid?.getNormalizedBoneNode("chest") ?? vrm.humanoid?.getNormalizedBoneNode("spine");
        if (chest) chest.rotation.x = idle.breath * 0.03;
        vrm.update(delta);
      } else {
        model.rotation.y = idle.sway * 0.15;
        model.scale.setScalar(1 + mouth * 0.04 + idle.breath * 0.01);
      }
      // The mouth's weight as the model holds it for this frame (a VRM's `aa` expression), for tests and tools.
      const shown = (vrm?.expressionManager?.getValue("aa") ?? mouth).toFixed(2);
      if (shown !== shownMouth) element.dataset.mouth = shownMouth = shown;
      controls.update();
      renderer.render(scene, camera);
    });

    return () => {
      disposed = true;
      stopListening();
      renderer.setAnimationLoop(null);
      resizing.disconnect();
      seen.disconnect();
      controls.dispose();
      if (vrm) VRMUtils.deepDispose(vrm.scene);
      else if (model) disposeObject(model);
      renderer.dispose();
      renderer.domElement.remove();
    };
  }, [url, orbit]);

  return <div ref={host} className="size-full touch-none" data-testid="avatar-canvas" />;
}

/** Puts the camera where the whole model (or a VRM's upper body) fills the view. */
function frame(model: THREE.Object3D, camera: THREE.PerspectiveCamera, controls: OrbitControls, isVrm: boolean) {
  const box = new THREE.Box3().setFromObject(model);
  const size = box.getSize(new THREE.Vector3());
  const center = box.getCenter(new THREE.Vector3());
  // A VRM is a person: look at the upper body, where the face is.
  const target = isVrm ? new THREE.Vector3(center.x, box.min.y + size.y * 0.78, center.z) : center;
  const height = isVrm ? size.y * 0.5 : Math.max(size.x, size.y, size.z);
  const distance = height / (2 * Math.tan((camera.fov * Math.PI) / 360)) + size.z;
  camera.position.set(target.x, target.y, target.z + distance * 1.1);
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  controls.target.copy(target);
  controls.minDistance = distance * 0.4;
  controls.maxDistance = distance * 3;
  controls.update();
}

function disposeObject(root: THREE.Object3D) {
  root.traverse((node) => {
    if (node instanceof THREE.Mesh) {
      node.geometry.dispose();
      for (const material of [node.material].flat()) {
        for (const value of Object.values(material)) if (value instanceof THREE.Texture) value.dispose();
        material.dispose();
      }
    }
  });
}
